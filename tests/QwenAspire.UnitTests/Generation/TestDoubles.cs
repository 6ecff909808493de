using System.Text;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;
using QwenAspire.Text;

namespace QwenAspire.UnitTests.Generation;

/// <summary>Token t decodes to the letter 'a' + t mod 26 (token ids are their own text, handy in assertions).</summary>
internal sealed class LetterDecoder : ITextDecoder
{
    public string Push(int tokenId) => ((char)('a' + tokenId % 26)).ToString();
    public string Flush() => "";
}

/// <summary>Tokens are byte strings; emits only complete UTF-8 characters, like the real incremental detokenizer.</summary>
internal sealed class BytesDecoder(IReadOnlyDictionary<int, byte[]> vocab) : ITextDecoder
{
    private readonly Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();

    public string Push(int tokenId)
    {
        var bytes = vocab[tokenId];
        var chars = new char[bytes.Length + 2];
        var n = _utf8.GetChars(bytes, 0, bytes.Length, chars, 0, flush: false);
        return new string(chars, 0, n);
    }

    public string Flush()
    {
        var chars = new char[8];
        var n = _utf8.GetChars([], 0, 0, chars, 0, flush: true);
        return new string(chars, 0, n);
    }

    public static Func<SamplingParams, ITextDecoder> FactoryFor(params string[] tokens)
    {
        var vocab = new Dictionary<int, byte[]>();
        for (var i = 0; i < tokens.Length; i++) vocab[i] = Encoding.UTF8.GetBytes(tokens[i]);
        return _ => new BytesDecoder(vocab);
    }
}

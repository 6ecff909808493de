using System.Text;

namespace QwenAspire.Text.Tokenization;

/// <summary>
/// Decodes a token stream piece by piece for streaming. Bytes of a character split across tokens are
/// held back until the character is complete, so no piece ends in half a character or a spurious U+FFFD,
/// and the concatenation of all pieces plus <see cref="Flush"/> equals <see cref="Qwen3Tokenizer.Decode"/>.
/// Not thread-safe: one per stream.
/// </summary>
public sealed class IncrementalDetokenizer : ITextDecoder
{
    private readonly Qwen3Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    // The UTF-8 decoder keeps an incomplete trailing sequence as state and reports invalid bytes as
    // U+FFFD exactly where a one-shot decode would.
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    internal IncrementalDetokenizer(Qwen3Tokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Adds one token; returns the text it completes (often empty mid-character).</summary>
    public string Push(int tokenId) => DecodeBytes(_tokenizer.TokenBytes(tokenId, _skipSpecialTokens), flush: false);

    /// <summary>Ends the stream: returns what is still held (an incomplete character becomes U+FFFD) and resets.</summary>
    public string Flush() => DecodeBytes([], flush: true);

    private string DecodeBytes(ReadOnlySpan<byte> bytes, bool flush)
    {
        // Each byte yields at most one char, and the up to 3 held-back bytes at most one each.
        var max = bytes.Length + 4;
        if (_chars.Length < max) _chars = new char[Math.Max(max, _chars.Length * 2)];
        var count = _decoder.GetChars(bytes, _chars, flush);
        return count == 0 ? "" : new string(_chars, 0, count);
    }
}

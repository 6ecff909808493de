using System.Text;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.Engine.Tokenization;

namespace QwenAspire.UnitTests.Constraints;

/// <summary>Vocabularies for grammar tests: the real Qwen3 one (built once) and a small synthetic one for random walks.</summary>
internal static class ConstraintVocabularies
{
    private static readonly Lazy<(Qwen3Tokenizer Tokenizer, TokenVocabulary Vocabulary)> s_qwen = new(() =>
    {
        var tokenizer = Qwen3Tokenizer.LoadEmbedded();
        return (tokenizer, TokenVocabulary.FromTokenizer(tokenizer, [tokenizer.TokenToId("<|im_end|>")!.Value, tokenizer.TokenToId("<|endoftext|>")!.Value]));
    });

    public static Qwen3Tokenizer QwenTokenizer => s_qwen.Value.Tokenizer;
    public static TokenVocabulary Qwen => s_qwen.Value.Vocabulary;

    public const int SmallEos = 0;

    /// <summary>Id 0 is eos; then every printable ASCII byte, some UTF-8 text, and multi-byte JSON-ish pieces.</summary>
    public static readonly string[] SmallTokens = [.. BuildSmall()];

    public static TokenVocabulary Small { get; } =
        new([.. SmallTokens.Select((t, i) => i == SmallEos ? null : Encoding.UTF8.GetBytes(t))], [SmallEos]);

    private static IEnumerable<string> BuildSmall()
    {
        yield return "<eos>";
        for (var c = ' '; c <= '~'; c++) yield return c.ToString();
        foreach (var t in new[] { "\n", "\t", "é", "中文", "\\n", "\\u00e9", "{\"", "\":", "\",", "\"}", "\"]", "true", "false", "null",
                     "123", "0.5", "-1", "e+10", "name", "age", "tags", "[]", "{}", "},", "],", ": ", ", ", "\"a\"", "  ", "\n  " })
            yield return t;
    }
}

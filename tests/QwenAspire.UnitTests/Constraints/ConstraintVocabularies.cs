using System.Text;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.Text.Tokenization;

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

    /// <summary>
    /// Id 0 is eos; then every ASCII byte ≥ 0x20 alone, some whole UTF-8 characters (enough for the test
    /// schemas' keys), and multi-byte JSON-ish pieces. No lone bytes ≥ 0x80: they would spell combining marks,
    /// which JsonSchema.Net counts into the previous character (it counts grapheme clusters for minLength and
    /// maxLength where the spec counts code points, as the grammar does), so a walk could fail the validator.
    /// </summary>
    public static TokenVocabulary Small { get; } = new([.. BuildSmall()], [SmallEos]);

    private static IEnumerable<byte[]?> BuildSmall()
    {
        yield return null;
        for (var b = 0x20; b <= 0x7E; b++) yield return [(byte)b];
        foreach (var t in new[] { "\n", "\t", "é", "中文", "名", "前", "😀", "ü", "\\n", "\\u00e9", "{\"", "\":", "\",", "\"}", "\"]", "true", "false", "null",
                     "123", "0.5", "-1", "e+10", "name", "age", "tags", "[]", "{}", "},", "],", ": ", ", ", "\"a\"", "  ", "\n  " })
            yield return Encoding.UTF8.GetBytes(t);
    }
}

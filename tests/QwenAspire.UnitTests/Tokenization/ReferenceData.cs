using System.Text.Json;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.UnitTests.Tokenization;

/// <summary>Reference encodings made with Hugging Face tokenizers (see TestData/PROVENANCE.md).</summary>
internal static class ReferenceData
{
    private static readonly Lazy<Qwen3Tokenizer> s_tokenizer = new(Qwen3Tokenizer.LoadEmbedded);

    public static Qwen3Tokenizer Tokenizer => s_tokenizer.Value;

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "qwen3", name);

    /// <summary>JSON lines of a file, split on '\n' only: some texts hold U+0085, U+2028 and friends raw.</summary>
    public static IReadOnlyList<JsonElement> Lines(string name) =>
        File.ReadAllText(PathOf(name)).Split('\n')
            .Where(line => line.Length > 0)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToArray();

    public static IReadOnlyList<JsonElement> EncodeCases { get; } = Lines("encode_cases.jsonl");

    public static IEnumerable<object[]> EncodeCaseIndices() => Enumerable.Range(0, EncodeCases.Count).Select(i => new object[] { i });

    public static int[] Ids(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];

    public static string[] Strings(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetString()!)];
}

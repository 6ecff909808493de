using System.Text.Json.Nodes;

namespace QwenAspire.UnitTests.Templating;

/// <summary>Reads the JSONL test data copied beside the test assembly (split on '\n' only: texts hold U+2028 raw).</summary>
internal static class TestFiles
{
    public static string PathOf(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "TestData", .. parts]);

    public static IEnumerable<JsonObject> ReadJsonl(params string[] parts) =>
        File.ReadAllText(PathOf(parts)).Split('\n')
            .Where(line => line.Length > 0)
            .Select(line => JsonNode.Parse(line)!.AsObject());

    public static JsonObject Case(string name, params string[] parts) =>
        ReadJsonl(parts).Single(c => (string)c["name"]! == name);

    public static TheoryData<string> Names(params string[] parts)
    {
        var data = new TheoryData<string>();
        foreach (var c in ReadJsonl(parts)) data.Add((string)c["name"]!);
        return data;
    }
}

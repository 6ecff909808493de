using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// One llama-server reference figure: a scenario ("levels", "adapters", "prefix"), the weight format it
/// ran ("BF16", "Q8_0"), the concurrency, and its medians. Prefix rows also carry cold/warm TTFT.
/// </summary>
internal sealed record Anchor(string Scenario, string Format, int Concurrency, double TtftMs, double InterTokenMs, double TokensPerSecond,
    double? ColdTtftMs = null, double? WarmTtftMs = null);

/// <summary>
/// The anchors bench-serve compares against: ANCHORS.md's rows built in, or a JSON file written by an earlier
/// <c>bench-serve --save-anchors FILE --label FORMAT</c> run against llama-server in the same session
/// (the issues ask for back-to-back figures, so a file from today beats the built-in ones).
/// </summary>
internal static class ServeAnchors
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    // llama-server, -t 2 --parallel 8 -c 8192, 2 requests per worker, 64 tokens (ANCHORS.md, 2026-11-25).
    public static IReadOnlyList<Anchor> BuiltIn { get; } =
    [
        new("levels", "Q8_0", 1, 459, 113, 8.39), new("levels", "Q8_0", 4, 1795, 169, 20.43), new("levels", "Q8_0", 8, 3378, 266, 25.44),
        new("levels", "BF16", 1, 417, 156, 6.23), new("levels", "BF16", 8, 3758, 282, 22.88),
    ];

    public static IReadOnlyList<Anchor> Load(string? path)
    {
        if (path is null) return BuiltIn;
        if (!File.Exists(path)) throw new ArgumentException($"--anchors: file '{path}' does not exist.");
        return JsonSerializer.Deserialize<List<Anchor>>(File.ReadAllText(path), s_json)
               ?? throw new InvalidDataException($"--anchors: '{path}' holds no anchor list.");
    }

    /// <summary>Merges <paramref name="rows"/> into the file: a row replaces the one with the same scenario, format and concurrency.</summary>
    public static void Save(string path, IEnumerable<Anchor> rows)
    {
        var merged = File.Exists(path) ? Load(path).ToList() : [];
        foreach (var row in rows)
        {
            merged.RemoveAll(a => a.Scenario == row.Scenario && a.Format == row.Format && a.Concurrency == row.Concurrency);
            merged.Add(row);
        }
        var ordered = merged.OrderBy(a => a.Scenario, StringComparer.Ordinal).ThenBy(a => a.Format, StringComparer.Ordinal).ThenBy(a => a.Concurrency);
        File.WriteAllText(path, JsonSerializer.Serialize(ordered, s_json) + "\n");
    }
}

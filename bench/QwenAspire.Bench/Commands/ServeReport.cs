using System.Globalization;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// Prints bench-serve's rows as markdown tables with speed ratios to the anchors of the same scenario and
/// concurrency (>1 = this server faster), then issue 8's internal targets, which need no anchor.
/// </summary>
internal static class ServeReport
{
    public static void Print(IReadOnlyList<ScenarioRow> rows, IReadOnlyList<Anchor> anchors, string precision, string anchorSource)
    {
        var formats = anchors.Select(a => a.Format).Distinct().Order(StringComparer.Ordinal).ToList();
        var levels = rows.Where(r => r.ColdTtftMs is null).ToList();
        Console.WriteLine();
        Console.WriteLine($"this server ({precision}) vs llama-server anchors ({anchorSource}). TTFT and inter-token ratios = anchor / this; tok/s = this / anchor.");
        Console.WriteLine("| scenario | C | requests | TTFT median | inter-token median | aggregate tok/s | wall |"
                          + string.Concat(formats.Select(f => $" vs {f} (TTFT / ITL / tok/s) |")));
        Console.WriteLine("|---|---|---|---|---|---|---|" + string.Concat(formats.Select(_ => "---|")));
        foreach (var row in levels)
        {
            var r = row.Level;
            Console.WriteLine(Inv($"| {row.Scenario} | {r.Concurrency} | {r.Requests.Count} | {r.TtftMedianMs:N0} ms | {r.InterTokenMedianMs:N0} ms | {r.AggregateTokensPerSecond:0.00} | {r.WallSeconds:0.0} s |")
                              + string.Concat(formats.Select(f => $" {Ratios(row, anchors, f)} |")));
        }
        foreach (var row in rows.Where(r => r.ColdTtftMs is not null))
        {
            Console.WriteLine();
            Console.WriteLine(Inv($"prefix, one request at a time: cold TTFT {row.ColdTtftMs:N0} ms, warm TTFT median {row.WarmTtftMs:N0} ms, warm/cold {row.WarmTtftMs / row.ColdTtftMs:0.000}")
                              + string.Concat(formats.Select(f => anchors.FirstOrDefault(a => a.Scenario == "prefix" && a.Format == f && a.ColdTtftMs is not null) is { } a
                                  ? Inv($"; llama-server {f}: cold {a.ColdTtftMs:N0} ms, warm {a.WarmTtftMs:N0} ms, warm/cold {a.WarmTtftMs / a.ColdTtftMs:0.000}")
                                  : "")));
        }
        PrintTargets(rows, anchors);
        Console.WriteLine("Figures are provisional when the CPU was busy before a level (see the cpu busy lines above).");
    }

    /// <summary>The rows as anchors (for --save-anchors), labelled with the server's weight format.</summary>
    public static IEnumerable<Anchor> AsAnchors(IEnumerable<ScenarioRow> rows, string format) => rows.Select(r => r.ColdTtftMs is null
        ? new Anchor(r.Scenario, format, r.Level.Concurrency, r.Level.TtftMedianMs, r.Level.InterTokenMedianMs, r.Level.AggregateTokensPerSecond)
        : new Anchor(r.Scenario, format, 1, r.WarmTtftMs!.Value, r.Level.InterTokenMedianMs, 0, r.ColdTtftMs, r.WarmTtftMs));

    private static void PrintTargets(IReadOnlyList<ScenarioRow> rows, IReadOnlyList<Anchor> anchors)
    {
        double? TokS(string scenario, int c) => rows.FirstOrDefault(r => r.Scenario == scenario && r.ColdTtftMs is null && r.Level.Concurrency == c)?.Level.AggregateTokensPerSecond;
        var lines = new List<string>();
        if (TokS("levels", 8) is { } c8)
        {
            foreach (var a in anchors.Where(a => a.Scenario == "levels" && a.Concurrency == 8))
                lines.Add(Inv($"C=8 aggregate vs llama-server {a.Format}: {c8 / a.TokensPerSecond:0.00}x (target >= 1.5x at the same precision)"));
            if (TokS("levels", 16) is { } c16) lines.Add(Inv($"C=16 / C=8 aggregate: {c16 / c8:0.00} (target >= 1.0, no collapse)"));
            if (TokS("adapters", 8) is { } mixed) lines.Add(Inv($"mixed-adapter C=8 / single-model C=8: {mixed / c8:0.00} (target >= 0.8)"));
        }
        if (rows.FirstOrDefault(r => r.ColdTtftMs is not null) is { } p)
            lines.Add(Inv($"warm / cold prefix TTFT: {p.WarmTtftMs / p.ColdTtftMs:0.000} (target <= 0.15)"));
        if (lines.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine("issue 8 targets:");
        foreach (var line in lines) Console.WriteLine("  " + line);
    }

    private static string Ratios(ScenarioRow row, IReadOnlyList<Anchor> anchors, string format)
    {
        var r = row.Level;
        var a = anchors.FirstOrDefault(x => x.Scenario == row.Scenario && x.Format == format && x.Concurrency == r.Concurrency && x.ColdTtftMs is null);
        return a is null ? "no anchor" : Inv($"{a.TtftMs / r.TtftMedianMs:0.00}x / {a.InterTokenMs / r.InterTokenMedianMs:0.00}x / {r.AggregateTokensPerSecond / a.TokensPerSecond:0.00}x");
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

using System.Text.Json;

namespace QwenAspire.UnitTests.Model;

/// <summary>One golden logits row summary (FIXTURE-README "Golden files").</summary>
public sealed record GoldenRow(int Pos, (int Id, double Logit)[] Top20, double LogSumExp, double Mean, double Rms, double[] Probe);

public sealed record GoldenPrompt(string Prompt, int[] Ids, GoldenRow[] Positions, int[] Greedy, GoldenRow[] GreedySteps);

/// <summary>Reads TestData/tiny-qwen3/golden and compares logits rows with the README's tolerances.</summary>
public static class Golden
{
    public static readonly int[] ProbeIds = [0, 1000, 100000, 151643, 151644, 151645, 151668, 151935];

    public static string Dir => Path.Combine(AppContext.BaseDirectory, "TestData", "tiny-qwen3");

    public static IReadOnlyList<GoldenPrompt> Load(string variant) =>
        [.. File.ReadAllText(Path.Combine(Dir, "golden", variant + ".jsonl")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse)];

    private static GoldenPrompt Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        return new GoldenPrompt(
            root.GetProperty("prompt").GetString()!,
            [.. root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())],
            [.. root.GetProperty("positions").EnumerateArray().Select(Row)],
            [.. root.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32())],
            [.. root.GetProperty("greedy_steps").EnumerateArray().Select(Row)]);
    }

    private static GoldenRow Row(JsonElement e) => new(
        e.GetProperty("pos").GetInt32(),
        [.. e.GetProperty("top20").EnumerateArray().Select(p => (p[0].GetInt32(), p[1].GetDouble()))],
        e.GetProperty("logsumexp").GetDouble(),
        e.GetProperty("mean").GetDouble(),
        e.GetProperty("rms").GetDouble(),
        [.. e.GetProperty("probe").EnumerateArray().Select(p => p.GetDouble())]);

    /// <summary>
    /// Compares one row: top-20 as a set of (id, logit) within <paramref name="logitTol"/>, top-1 equal
    /// (when <paramref name="requireTop1"/>), logsumexp/mean/rms/probe within tolerance. Returns null or
    /// a description of the first failure.
    /// </summary>
    public static string? Compare(string where, GoldenRow golden, ReadOnlySpan<float> logits, double logitTol, double lseTol, bool requireTop1 = true)
    {
        foreach (var (id, value) in golden.Top20)
            if (Math.Abs(logits[id] - value) > logitTol)
                return $"{where} pos {golden.Pos}: logit[{id}] = {logits[id]:R}, golden {value:R}";
        if (requireTop1 && ArgMax(logits) != golden.Top20[0].Id)
            return $"{where} pos {golden.Pos}: argmax {ArgMax(logits)}, golden {golden.Top20[0].Id}";
        var (lse, mean, rms) = Summary(logits);
        if (Math.Abs(lse - golden.LogSumExp) > lseTol) return $"{where} pos {golden.Pos}: logsumexp {lse:R}, golden {golden.LogSumExp:R}";
        if (Math.Abs(mean - golden.Mean) > logitTol) return $"{where} pos {golden.Pos}: mean {mean:R}, golden {golden.Mean:R}";
        if (Math.Abs(rms - golden.Rms) > logitTol) return $"{where} pos {golden.Pos}: rms {rms:R}, golden {golden.Rms:R}";
        for (var i = 0; i < ProbeIds.Length; i++)
            if (Math.Abs(logits[ProbeIds[i]] - golden.Probe[i]) > logitTol)
                return $"{where} pos {golden.Pos}: probe logit[{ProbeIds[i]}] = {logits[ProbeIds[i]]:R}, golden {golden.Probe[i]:R}";
        return null;
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>logsumexp, mean and rms over the full row, accumulated in double.</summary>
    public static (double Lse, double Mean, double Rms) Summary(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity, sum = 0, squares = 0;
        foreach (var v in logits)
        {
            max = Math.Max(max, v);
            sum += v;
            squares += (double)v * v;
        }
        double exp = 0;
        foreach (var v in logits) exp += Math.Exp(v - max);
        return (max + Math.Log(exp), sum / logits.Length, Math.Sqrt(squares / logits.Length));
    }
}

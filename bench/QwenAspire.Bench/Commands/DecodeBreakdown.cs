using System.Diagnostics;
using QwenAspire.Engine.Model;
using static TorchSharp.torch;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-model --breakdown</c>: where a decode step's time goes. Alternates, in the same process, a full
/// B-row decode forward with the same step's linear projections alone (every layer's linears in forward order
/// plus the lm_head, B rows of random activations, under the forward's thread setting): the difference is
/// everything else (norms, RoPE, SiLU, adds, attention, KV writes, torch op overhead, hand-offs).
/// </summary>
internal static class DecodeBreakdown
{
    public static void Run(Qwen3ForCausalLM model, PagedKvCache cache, BenchSequences pool, int rows, int context, int steps)
    {
        var sequences = Enumerable.Range(0, rows).Select(_ => pool.Add(context)).ToArray();
        var tokens = sequences.Select((_, i) => new[] { 2000 + i }).ToArray();
        var linears = model.Layers.SelectMany(l => l.Linears).Append(model.LmHead).ToArray();
        using var scope = NewDisposeScope();
        var inputs = linears.Select(l => l.InFeatures).Distinct().ToDictionary(n => n, n => randn(rows, n));
        model.Forward(pool.Step([.. sequences.Select((s, i) => (s, tokens[i]))]), cache).Dispose(); // warm-up
        double forwardMs = double.MaxValue, linearMs = double.MaxValue;
        var perKind = new Dictionary<string, double>();
        for (var round = 0; round < steps; round++)
        {
            var clock = Stopwatch.StartNew();
            model.Forward(pool.Step([.. sequences.Select((s, i) => (s, tokens[i]))]), cache).Dispose();
            forwardMs = Math.Min(forwardMs, clock.Elapsed.TotalMilliseconds);

            var kinds = new Dictionary<string, double>();
            var threads = get_num_threads();
            var single = threads > 1 && linears.All(l => l.Weight.RunsOnKernelThreads(rows));
            if (single) set_num_threads(1);
            try
            {
                using var inference = inference_mode();
                clock.Restart();
                foreach (var linear in linears)
                {
                    var start = clock.Elapsed.TotalMilliseconds;
                    linear.Forward(inputs[linear.InFeatures]).Dispose();
                    var kind = linear.Name[(linear.Name.LastIndexOf('.') + 1)..];
                    kinds[kind] = kinds.GetValueOrDefault(kind) + clock.Elapsed.TotalMilliseconds - start;
                }
                var total = clock.Elapsed.TotalMilliseconds;
                if (total < linearMs)
                {
                    linearMs = total;
                    perKind = kinds;
                }
            }
            finally
            {
                if (single) set_num_threads(threads);
            }
        }
        var bytes = linears.Sum(l => l.Weight.StorageBytes);
        Console.WriteLine($"breakdown B={rows,2} context {context}: forward {forwardMs:0.0} ms, linears alone {linearMs:0.0} ms " +
                          $"({bytes / linearMs / 1e6:0.0} GB/s of weights), rest {forwardMs - linearMs:0.0} ms  load {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("  linears: " + string.Join(", ", perKind.Select(k => $"{k.Key} {k.Value:0.0}")));
    }
}

using System.Diagnostics;
using QwenAspire.Engine;
using QwenAspire.Engine.Model.Kernels;
using static TorchSharp.torch;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-attention</c>: one layer's paged decode attention at Qwen3-1.7B shapes (16 heads, 8 kv heads, d 128)
/// for B sequences of C tokens each, f32 vs bf16 KV, through the SIMD kernel and through torch (gather + matmul);
/// the figures that chose the KV dtype. Per-step cost is 28× the per-layer time.
/// </summary>
internal static class AttentionBench
{
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var threads = cl.Int("threads", 2);
        var batches = (cl.Get("batch") ?? "1,8,16").Split(',').Select(int.Parse).ToArray();
        var contexts = (cl.Get("context") ?? "256,1024,4096").Split(',').Select(int.Parse).ToArray();
        var seconds = double.Parse(cl.Get("seconds") ?? "0.5", System.Globalization.CultureInfo.InvariantCulture);
        int heads = cl.Int("heads", 16), kvHeads = cl.Int("kv-heads", 8), d = cl.Int("head-dim", 128), blockSize = 16;
        TorchRuntime.SetThreads(threads);
        Console.WriteLine($"load avg before: {File.ReadAllText("/proc/loadavg").Trim()}  threads {threads}  H {heads} KV {kvHeads} D {d}");
        using var inference = inference_mode();
        foreach (var c in contexts)
        {
            foreach (var b in batches)
            {
                var blocksPer = (c + blockSize - 1) / blockSize;
                var tables = Enumerable.Range(0, b).Select(s => Enumerable.Range(s * blocksPer, blocksPer).ToArray()).ToArray();
                var rows = Enumerable.Range(0, b).ToArray();
                var ctx = Enumerable.Repeat(c, b).ToArray();
                using var q = randn(b, heads, d);
                using var output = zeros(b, heads * d);
                var line = $"B {b,2} C {c,5}:";
                foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
                {
                    using var keys = randn(b * blocksPer * blockSize, kvHeads, d).to(dtype);
                    using var values = randn(b * blocksPer * blockSize, kvHeads, d).to(dtype);
                    var kernel = Time(() => PagedAttentionKernel.Run(q, output, keys, values, blockSize, rows, ctx, tables, AttentionWidth.Auto, threads), seconds);
                    using var gather = tensor(tables.SelectMany(t => t.SelectMany(blk => Enumerable.Range(blk * blockSize, blockSize))).Select(x => (long)x).ToArray());
                    var torchTime = Time(() =>
                    {
                        using var scope = NewDisposeScope();
                        var k = keys.index_select(0, gather).to(ScalarType.Float32).view(b, -1, kvHeads, d).permute(0, 2, 3, 1); // (B, KV, D, C)
                        var v = values.index_select(0, gather).to(ScalarType.Float32).view(b, -1, kvHeads, d).transpose(1, 2);   // (B, KV, C, D)
                        _ = q.view(b, kvHeads, heads / kvHeads, d).matmul(k).mul_(1 / Math.Sqrt(d)).softmax(-1).matmul(v);
                    }, seconds);
                    var bytes = 2.0 * b * c * kvHeads * d * (dtype == ScalarType.Float32 ? 4 : 2);
                    line += $"  {(dtype == ScalarType.Float32 ? "f32" : "bf16")}: kernel {kernel * 1e3,7:0.000} ms ({bytes / kernel / 1e9,5:0.0} GB/s) torch {torchTime * 1e3,7:0.000} ms";
                }
                Console.WriteLine(line);
            }
        }
        Console.WriteLine($"load avg after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>Best-of seconds per call over a time budget (best-of filters out slices lost to other processes).</summary>
    private static double Time(Action action, double budget)
    {
        for (var i = 0; i < 2; i++) action();
        var best = double.MaxValue;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < budget)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}

using System.Diagnostics;
using QwenAspire.Engine;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Kernels;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-gemv</c>: one linear layer with a 16-bit weight (or its <c>--quantization int8|int4</c> form), few rows,
/// through <see cref="Qwen3Linear"/> with the SIMD kernel against libtorch's bf16 path, same process, alternating;
/// GB/s of the kernel's weight storage against the anchors' limit.
/// </summary>
internal static class GemvBench
{
    private const double BandwidthLimit2Threads = 30.5; // GB/s, shared/bench/ANCHORS.md

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var threads = cl.Int("threads", 2);
        var dtype = (cl.Get("dtype") ?? "bf16") switch
        {
            "bf16" => ScalarType.BFloat16,
            "f16" => ScalarType.Float16,
            var d => throw new ArgumentException($"--dtype must be bf16 or f16, not '{d}'."),
        };
        var shapes = (cl.Get("shapes") ?? "6144x2048,2048x6144,2048x2048,1024x2048,151936x2048").Split(',')
            .Select(s => s.Split('x').Select(int.Parse).ToArray()).ToList();
        var rowCounts = (cl.Get("rows") ?? "1,4,8,16").Split(',').Select(int.Parse).ToList();
        var quantization = WeightQuantizations.Parse(cl.Get("quantization"));
        var group = cl.Int("group", ModelLoadOptions.DefaultQuantizationGroupSize);
        var seconds = double.Parse(cl.Get("seconds") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        TorchRuntime.SetThreads(threads);
        Console.WriteLine($"load avg before: {File.ReadAllText("/proc/loadavg").Trim()}  threads {threads}  dtype {dtype}  quantization {quantization.Name()} (group {group})");
        using var inference = inference_mode();
        // --model: the checkpoint's own (file-backed) tensors, then the same tensors copied to anonymous memory.
        using var model = cl.Get("model") is { } dir ? Qwen3ForCausalLM.Load(dir, new ModelLoadOptions { DType = dtype == ScalarType.Float16 ? "f16" : "bf16" }) : null;
        var weights = model is null
            ? shapes.Select(s => (Name: $"{s[0]}x{s[1]}", Tensor: randn(s[0], s[1]).mul_(0.02).to(dtype))).ToList()
            : [.. new[] { "lm_head", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.down_proj" }
                .Select(n => ((DenseWeight)(n == "lm_head" ? model.LmHead.Weight : model.Linears[n].Weight)).Tensor)
                .SelectMany(w => new[] { (Name: $"{w.shape[0]}x{w.shape[1]} mapped", Tensor: w.alias()), (Name: $"{w.shape[0]}x{w.shape[1]} copied", Tensor: w.clone()) })];
        foreach (var (name, weight) in weights)
        {
            var shape = weight.shape.Select(d => (int)d).ToArray();
            // Up to 16 rows the GEMV; above, the AVX512-BF16 GEMM where the CPU has it (else the GEMV in one pass).
            var kernelPolicy = Bf16DotGemv.Available && dtype == ScalarType.BFloat16
                ? new LinearPolicy(KernelMaxRows: 16, WidenAboveRows: int.MaxValue)
                : new LinearPolicy(KernelMaxRows: int.MaxValue, WidenAboveRows: int.MaxValue);
            var torchPath = new Qwen3Linear("bench", weight, new LinearPolicy(KernelMaxRows: 0, WidenAboveRows: int.MaxValue, Bf16DotGemm: false));
            var kernel = quantization == WeightQuantization.None
                ? new Qwen3Linear("bench", weight, kernelPolicy)
                : new Qwen3Linear("bench", QuantizedWeight.Quantize(torchPath.Weight, quantization, group, kernelPolicy));
            foreach (var rows in rowCounts)
            {
                using var x = randn(rows, shape[1]);
                double diff;
                using (var a = kernel.Forward(x))
                using (var b = torchPath.Forward(x))
                using (var d = (a - b).abs().max())
                    diff = d.item<float>();
                // Alternate the two in three rounds so load changes hit both alike.
                double ours = double.MaxValue, theirs = double.MaxValue;
                for (var round = 0; round < 3; round++)
                {
                    ours = Math.Min(ours, Time(kernel, x, seconds / 3));
                    theirs = Math.Min(theirs, Time(torchPath, x, seconds / 3));
                }
                var bytes = (double)kernel.Weight.StorageBytes;
                Console.WriteLine($"{name,-20} rows {rows,2}:  kernel {ours * 1e3,8:0.000} ms {bytes / ours / 1e9,6:0.0} GB/s ({bytes / ours / 1e9 / BandwidthLimit2Threads:0.00} of limit)"
                    + $"  libtorch {theirs * 1e3,8:0.000} ms {bytes / theirs / 1e9,6:0.0} GB/s  speed-up {theirs / ours,5:0.00}x  max|Δ| {diff:0.0e0}");
            }
            if (quantization != WeightQuantization.None) kernel.Dispose();
            weight.Dispose();
        }
        Console.WriteLine($"load avg after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>Best-of per-call seconds over a time budget (best-of filters out time slices lost to other processes).</summary>
    private static double Time(Qwen3Linear linear, Tensor x, double budget)
    {
        for (var i = 0; i < 3; i++) linear.Forward(x).Dispose();
        var best = double.MaxValue;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < budget)
        {
            var clock = Stopwatch.StartNew();
            linear.Forward(x).Dispose();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}

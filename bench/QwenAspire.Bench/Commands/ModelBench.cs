using System.Diagnostics;
using QwenAspire.Engine;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Weights;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-model</c>: prefill tok/s for one prompt and batch-1 decode tok/s with the KV cache, with ratios
/// to llama.cpp's anchors on this machine kind (shared/bench/ANCHORS.md, BF16 Qwen3-1.7B shapes, 2 threads).
/// </summary>
internal static class ModelBench
{
    private const double LlamaCppBf16Prefill = 56.70;
    private const double LlamaCppBf16Decode = 6.57;

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var modelDir = cl.Require("model");
        var threads = cl.Int("threads", 2);
        var dtype = cl.Get("dtype") ?? "bf16";
        var promptLength = cl.Int("prompt", 512);
        var decodeSteps = cl.Int("decode", 128);
        var policy = cl.Get("widen-above") is { } w ? new LinearPolicy(int.Parse(w, System.Globalization.CultureInfo.InvariantCulture)) : LinearPolicy.Default;
        policy = (cl.Get("kernel") ?? "on") switch
        {
            "on" => policy,
            "off" => policy with { KernelMaxRows = 0 },
            var k => throw new ArgumentException($"--kernel must be on or off, not '{k}'."),
        };
        if (cl.Get("prefill-block") is { } pb) policy = policy with { WidenBlockRows = int.Parse(pb, System.Globalization.CultureInfo.InvariantCulture) };
        if (cl.Get("kernel-chunks-upto") is { } kc) policy = policy with { KernelChunkMaxRows = int.Parse(kc, System.Globalization.CultureInfo.InvariantCulture) };
        var quantization = WeightQuantizations.Parse(cl.Get("quantization"));
        var group = cl.Int("group", ModelLoadOptions.DefaultQuantizationGroupSize);
        var lmHead = (cl.Get("quantize-lm-head") ?? "true") == "true";
        TorchRuntime.SetThreads(threads);

        Console.WriteLine($"load avg before: {LoadAverage()}");
        var clock = Stopwatch.StartNew();
        using var model = Qwen3ForCausalLM.Load(modelDir, new ModelLoadOptions
        {
            DType = dtype,
            LinearPolicy = policy,
            Quantization = quantization,
            QuantizationGroupSize = group,
            QuantizeLmHead = lmHead,
        });
        Console.WriteLine($"loaded {modelDir} as {model.DType}, quantization {quantization.Name()} (group {group}, lm_head {(lmHead ? "quantized" : "dense")}) in {clock.Elapsed.TotalSeconds:0.0} s (threads {threads}, widen above {policy.WidenAboveRows} rows, SIMD GEMV up to {policy.KernelMaxRows} rows, in chunks up to {policy.KernelChunkMaxRows} rows, widening blocks of {policy.WidenBlockRows} rows), RSS {Rss()}");

        var random = new Random(1234);
        var prompt = Enumerable.Range(0, promptLength).Select(_ => random.Next(0, 151643)).ToArray();
        using (var warm = model.NewCache())
        {
            // Warm-up: one short prefill and a few decodes so first-touch page faults and allocator growth are not timed.
            using var _ = model.Forward(prompt.AsSpan(0, Math.Min(16, prompt.Length)), warm);
            for (var i = 0; i < 3; i++) model.Forward([1], warm).Dispose();
        }

        using var cache = model.NewCache();
        clock.Restart();
        var logits = model.Forward(prompt, cache);
        var prefillSeconds = clock.Elapsed.TotalSeconds;
        var next = Argmax(logits);
        logits.Dispose();

        clock.Restart();
        for (var i = 0; i < decodeSteps; i++)
        {
            using var step = model.Forward([next], cache);
            next = Argmax(step);
        }
        var decodeSeconds = clock.Elapsed.TotalSeconds;

        var prefill = promptLength / prefillSeconds;
        var decode = decodeSteps / decodeSeconds;
        Console.WriteLine($"prefill pp{promptLength}: {prefill,8:0.00} tok/s  ({prefillSeconds:0.00} s)  ratio to llama.cpp BF16 pp512 {LlamaCppBf16Prefill}: {prefill / LlamaCppBf16Prefill:0.00}x");
        Console.WriteLine($"decode  tg{decodeSteps}: {decode,8:0.00} tok/s  ({1000 * decodeSeconds / decodeSteps:0.0} ms/token)  ratio to llama.cpp BF16 tg128 {LlamaCppBf16Decode}: {decode / LlamaCppBf16Decode:0.00}x");
        Console.WriteLine($"load avg after: {LoadAverage()}, RSS {Rss()}");
        return 0;
    }

    private static int Argmax(TorchSharp.torch.Tensor logits)
    {
        using var index = logits.argmax(-1);
        return (int)index.item<long>();
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";

    private static string Rss()
    {
        using var process = Process.GetCurrentProcess();
        return $"{process.WorkingSet64 >> 20} MiB";
    }
}

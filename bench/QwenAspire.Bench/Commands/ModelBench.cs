using System.Diagnostics;
using QwenAspire.Engine;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Lora;
using QwenAspire.Engine.Model.Weights;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-model</c>: prefill tok/s for one prompt, batch-1 decode tok/s over the paged KV pool, and batched
/// decode (B sequences, one row each, one forward per step) for each --batch, per --kv-dtype; ratios to
/// llama.cpp's anchors on this machine kind (shared/bench/ANCHORS.md, BF16 Qwen3-1.7B shapes, 2 threads).
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
            // Explicit path flags are measured as given; otherwise the server's load-time calibration applies.
            CalibrateLinearPolicy = cl.Get("widen-above") is null && cl.Get("kernel") is null,
            Quantization = quantization,
            QuantizationGroupSize = group,
            QuantizeLmHead = lmHead,
        });
        if (model.LinearPolicyReport is { } report) Console.WriteLine(report);
        Console.WriteLine($"loaded {modelDir} as {model.DType}, quantization {quantization.Name()} (group {group}, lm_head {(lmHead ? "quantized" : "dense")}) in {clock.Elapsed.TotalSeconds:0.0} s (threads {threads}, {(model.LinearPolicyReport is null ? "" : "before calibration: ")}widen above {policy.WidenAboveRows} rows, SIMD GEMV up to {policy.KernelMaxRows} rows, in chunks up to {policy.KernelChunkMaxRows} rows, widening blocks of {policy.WidenBlockRows} rows), RSS {Rss()}");

        var batches = (cl.Get("batch") ?? "1,4,8,16").Split(',').Select(int.Parse).ToArray();
        var context = cl.Int("context", 256);
        var batchSteps = cl.Int("batch-steps", 16);
        var kvDTypes = (cl.Get("kv-dtype") ?? "bf16").Split(',');
        model.AttentionPath = (cl.Get("attention") ?? "auto") switch
        {
            "auto" => PagedAttentionPath.Auto,
            "torch" => PagedAttentionPath.Torch,
            var a => throw new ArgumentException($"--attention must be auto or torch, not '{a}'."),
        };
        // --decode-path auto,torch: every decode figure once per path, interleaved in this process (A/B of the fast path).
        var decodePaths = (cl.Get("decode-path") ?? "auto").Split(',').Select(p => p switch
        {
            "auto" => DecodeStepPath.Auto,
            "torch" => DecodeStepPath.Torch,
            _ => throw new ArgumentException($"--decode-path must be auto or torch, not '{p}'."),
        }).ToArray();
        // --adapters DIR,DIR: attached unmerged; the batched runs are repeated with rows spread over base and them.
        var adapterSlots = (cl.Get("adapters") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select((dir, i) =>
        {
            using var adapter = LoraAdapter.Load($"adapter{i + 1}", dir, model.Config);
            model.AttachAdapter(adapter, i + 1);
            return i + 1;
        }).ToArray();
        var random = new Random(1234);
        var prompt = Enumerable.Range(0, promptLength).Select(_ => random.Next(0, 151643)).ToArray();
        // Sequences are never freed here: room for the prefill sequence, the warm-up, and every batch's sequences.
        var blocks = (promptLength + decodeSteps * decodePaths.Length + 15) / 16 + 2 + decodePaths.Length * (adapterSlots.Length > 0 ? 2 : 1) * batches.Sum(b => b * ((context + batchSteps + 2 + 15) / 16));
        foreach (var kvName in kvDTypes)
        {
            var kvDType = new KvCacheSettings(DType: kvName).ResolveDType(model.DType);
            using var cache = new PagedKvCache(model.Config, 16, blocks, kvDType, model.Device);
            // Random K/V everywhere: batched decode rows attend over `context` positions they did not prefill.
            using (TorchSharp.torch.no_grad())
                for (var l = 0; l < cache.Layers; l++)
                {
                    cache.Keys(l).normal_();
                    cache.Values(l).normal_();
                }
            Console.WriteLine($"KV {cache.DType}: pool {cache.SlotCount} tokens, {cache.Bytes >> 20} MiB, attention {model.AttentionPath}");
            var pool = new BenchSequences(cache.BlockSize, cache.BlockCount);
            {
                // Warm-up: one short prefill and a few decodes so first-touch page faults and allocator growth are not timed.
                var warm = pool.Add();
                model.Forward(pool.Step([(warm, prompt[..Math.Min(16, prompt.Length)])]), cache).Dispose();
                for (var i = 0; i < 3; i++) model.Forward(pool.Step([(warm, [1])]), cache).Dispose();
            }
            var sequence = pool.Add();
            clock.Restart();
            var logits = model.Forward(pool.Step([(sequence, prompt)]), cache);
            var prefillSeconds = clock.Elapsed.TotalSeconds;
            var next = Argmax(logits);
            logits.Dispose();

            // Two rounds per decode path, alternating, so load changes hit every path alike.
            var decodeSeconds = new double[decodePaths.Length];
            var stepMs = decodePaths.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < 2; round++)
                for (var p = 0; p < decodePaths.Length; p++)
                {
                    model.DecodePath = decodePaths[p];
                    clock.Restart();
                    var last = 0.0;
                    for (var i = round * decodeSteps / 2; i < (round + 1) * decodeSteps / 2; i++)
                    {
                        using var step = model.Forward(pool.Step([(sequence, [next])]), cache);
                        next = Argmax(step);
                        var now = clock.Elapsed.TotalMilliseconds;
                        stepMs[p].Add(now - last);
                        last = now;
                    }
                    decodeSeconds[p] += clock.Elapsed.TotalSeconds;
                }

            var prefill = promptLength / prefillSeconds;
            Console.WriteLine($"prefill pp{promptLength}: {prefill,8:0.00} tok/s  ({prefillSeconds:0.00} s)  ratio to llama.cpp BF16 pp512 {LlamaCppBf16Prefill}: {prefill / LlamaCppBf16Prefill:0.00}x");
            for (var p = 0; p < decodePaths.Length; p++)
            {
                var steps = decodeSteps / 2 * 2;
                var decode = steps / decodeSeconds[p];
                var sorted = stepMs[p].Order().ToArray();
                Console.WriteLine($"decode  tg{steps} ({decodePaths[p]} decode path): {decode,8:0.00} tok/s  ({1000 * decodeSeconds[p] / steps:0.0} ms/token; per token min {sorted[0]:0.0}, median {sorted[sorted.Length / 2]:0.0}, p90 {sorted[sorted.Length * 9 / 10]:0.0}, max {sorted[^1]:0.0} ms)  ratio to llama.cpp BF16 tg128 {LlamaCppBf16Decode}: {decode / LlamaCppBf16Decode:0.00}x");
            }
            if (cl.Get("breakdown") is "true")
            {
                foreach (var b in batches) DecodeBreakdown.Run(model, cache, pool, b, context, batchSteps);
                continue;
            }
            foreach (var b in batches)
                foreach (var path in decodePaths) BatchedDecode(model, path, cache, pool, b, context, batchSteps, [0]);
            if (adapterSlots.Length > 0)
                foreach (var b in batches)
                    foreach (var path in decodePaths) BatchedDecode(model, path, cache, pool, b, context, batchSteps, [0, .. adapterSlots]);
        }
        Console.WriteLine($"load avg after: {LoadAverage()}, RSS {Rss()}");
        return 0;
    }

    /// <summary>Decode steps of <paramref name="rows"/> sequences at once (one row each, <paramref name="context"/> tokens of history each).</summary>
    private static void BatchedDecode(Qwen3ForCausalLM model, DecodeStepPath path, PagedKvCache cache, BenchSequences pool, int rows, int context, int steps, int[] slots)
    {
        model.DecodePath = path;
        var sequences = Enumerable.Range(0, rows).Select(_ => pool.Add(context)).ToArray();
        var tokens = sequences.Select((_, i) => new[] { 1000 + i }).ToArray();
        model.Forward(pool.Step([.. sequences.Select((s, i) => (s, tokens[i]))], slots), cache).Dispose(); // warm-up
        var clock = Stopwatch.StartNew();
        for (var step = 0; step < steps; step++)
            model.Forward(pool.Step([.. sequences.Select((s, i) => (s, tokens[i]))], slots), cache).Dispose();
        var seconds = clock.Elapsed.TotalSeconds;
        var mix = slots.Length == 1 ? "base" : $"base+{slots.Length - 1} adapters";
        Console.WriteLine($"batched decode B={rows,2} context {context} {mix} ({path}): {rows * steps / seconds,8:0.00} tok/s aggregate  ({1000 * seconds / steps:0.0} ms/step, {1000 * seconds / steps / rows:0.0} ms/row)  ratio to B=1 llama.cpp {rows * steps / seconds / LlamaCppBf16Decode:0.00}x  load {LoadAverage()}");
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

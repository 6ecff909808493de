using System.Diagnostics;
using QwenAspire.Engine;
using QwenAspire.Engine.Model;

namespace QwenAspire.Bench.Commands;

/// <summary>bench-mask's denominator: the mean batch-1 decode step of a model (BF16, server load options), after a 64-token prefill.</summary>
internal static class MaskBenchDecode
{
    public static double StepMs(string modelDir, int threads, int steps)
    {
        TorchRuntime.SetThreads(threads);
        using var model = Qwen3ForCausalLM.Load(modelDir, new ModelLoadOptions { DType = "bf16" });
        const int prompt = 64;
        using var cache = new PagedKvCache(model.Config, 16, (prompt + steps + 8 + 15) / 16 * 2 + 2, new KvCacheSettings(DType: "bf16").ResolveDType(model.DType), model.Device);
        var pool = new BenchSequences(cache.BlockSize, cache.BlockCount);
        var sequence = pool.Add();
        var random = new Random(1234);
        model.Forward(pool.Step([(sequence, Enumerable.Range(0, prompt).Select(_ => random.Next(0, 151643)).ToArray())]), cache).Dispose();
        for (var i = 0; i < 3; i++) model.Forward(pool.Step([(sequence, [1000 + i])]), cache).Dispose(); // warm-up, not timed
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) model.Forward(pool.Step([(sequence, [2000 + i])]), cache).Dispose();
        return clock.Elapsed.TotalMilliseconds / steps;
    }
}

// Written against the per-sequence runner API (Step/Release/Sequence.Logits) that the paged IModelRunner replaced;
// compiled out until the model branch's paged-runner tests replace this file.
#if OLD_RUNNER_API
using System.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Sampling;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model;

/// <summary>The model runner seen through <see cref="IModelRunner"/>: KV-cached steps per sequence id.</summary>
[Collection(TinyModelsCollection.Name)]
public sealed class RunnerTests(TinyModels models)
{
    private static Sequence NewSequence(IReadOnlyList<int> prompt, string? adapter = null) =>
        new(new GenerationRequest(Guid.NewGuid().ToString(), adapter, prompt, new SamplingParams { Temperature = 0 }));

    private static List<int> Greedy(IModelRunner runner, Sequence sequence, int count)
    {
        var generated = new List<int>();
        for (var i = 0; i < count; i++)
        {
            runner.Step([sequence]);
            var token = Golden.ArgMax(sequence.Logits);
            generated.Add(token);
            sequence.Tokens.Add(token);
        }
        return generated;
    }

    [Fact]
    public void InterleavedSequencesWithDifferentAdaptersReproduceTheirGoldens()
    {
        var adapters = new Dictionary<string, string> { ["all"] = models.LoraAll, ["rs"] = models.LoraRs };
        var progress = new List<ModelLoadProgress>();
        using var runner = TorchModelRunner.Load(models.Base, adapters, "f32", "cpu", new SyncProgress(progress));
        Assert.True(runner.ServesBaseModel);
        Assert.Equal(1.0, progress.Where(p => p.Stage == "done").Single().Fraction);
        Assert.Equal([151645, 151643], runner.GenerationConfig.EosTokenIds);

        var p2 = Golden.Load("base")[1];
        var cases = new (string? Adapter, string Variant)[] { (null, "base"), ("all", "lora-all"), ("rs", "lora-rs") };
        var sequences = cases.Select(c => NewSequence(p2.Ids, c.Adapter)).ToList();
        var outputs = sequences.Select(_ => new List<int>()).ToList();
        for (var step = 0; step < 32; step++)
        {
            for (var i = 0; i < sequences.Count; i++)
            {
                runner.Step([sequences[i]]);
                var token = Golden.ArgMax(sequences[i].Logits);
                outputs[i].Add(token);
                sequences[i].Tokens.Add(token);
            }
        }
        for (var i = 0; i < cases.Length; i++)
            Assert.Equal(Golden.Load(cases[i].Variant)[1].Greedy, outputs[i]);
        Assert.Equal(3, runner.ActiveSequences);
        foreach (var s in sequences) runner.Release(s);
        Assert.Equal(0, runner.ActiveSequences);
    }

    [Fact]
    public void SingleAdapterIsMergedAndTheBaseModelIsRefused()
    {
        using var runner = TorchModelRunner.Load(models.Base, new Dictionary<string, string> { ["rs"] = models.LoraRs }, "f32");
        Assert.False(runner.ServesBaseModel);
        var golden = Golden.Load("lora-rs")[0];
        Assert.Equal(golden.Greedy, Greedy(runner, NewSequence(golden.Ids, "rs"), golden.Greedy.Length));
        var e = Assert.Throws<InvalidOperationException>(() => runner.Step([NewSequence(golden.Ids)]));
        Assert.Contains("merged", e.Message);
        Assert.Throws<InvalidOperationException>(() => runner.Step([NewSequence(golden.Ids, "other")]));
    }

    [Fact]
    public void DecodeWithKvCacheEqualsFullRecompute()
    {
        using var model = Qwen3ForCausalLM.Load(models.Base, new ModelLoadOptions { DType = "f32" });
        var prompt = Golden.Load("base")[0]; // p1, 40 tokens
        var tokens = prompt.Ids.ToList();
        using var cache = model.NewCache();
        var next = prompt.Ids;
        double worst = 0;
        for (var step = 0; step < 12; step++)
        {
            using var cached = model.Forward(next, cache);
            using var fresh = model.NewCache();
            using var full = model.Forward(tokens.ToArray(), fresh);
            worst = Math.Max(worst, (cached - full).abs().max().item<float>());
            var token = Golden.ArgMax(cached.data<float>().ToArray());
            tokens.Add(token);
            next = [token];
        }
        Assert.True(worst < 1e-4, $"max |cached − recomputed| = {worst}");
    }

    [Fact]
    public void ThousandDecodeStepsDoNotGrowNativeMemory()
    {
        using var runner = TorchModelRunner.Load(models.Base, null, "f32");
        var sequence = NewSequence([151644, 872, 198]);
        Greedy(runner, sequence, 50); // warm up allocator and KV capacity
        GC.Collect();
        var liveBefore = LiveTensors();
        var rssBefore = Process.GetCurrentProcess().Refresh2().WorkingSet64;
        Greedy(runner, sequence, 1000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var rssAfter = Process.GetCurrentProcess().Refresh2().WorkingSet64;
        // The KV cache itself grows by ~1 MB here (2 layers × K,V × 64 floats × 1000 tokens, doubled capacity).
        Assert.True(rssAfter - rssBefore < 64L << 20, $"RSS grew by {(rssAfter - rssBefore) >> 20} MiB over 1000 steps");
        Assert.Equal(liveBefore, LiveTensors());
        runner.Release(sequence);
    }

    private static long LiveTensors() => TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;

    private sealed class SyncProgress(List<ModelLoadProgress> sink) : IProgress<ModelLoadProgress>
    {
        public void Report(ModelLoadProgress value) => sink.Add(value);
    }
}

internal static class ProcessExtensions
{
    public static Process Refresh2(this Process process)
    {
        process.Refresh();
        return process;
    }
}
#endif

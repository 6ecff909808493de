using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Sampling;
using QwenAspire.UnitTests.Generation;
using QwenAspire.UnitTests.Model;

namespace QwenAspire.UnitTests.Integration;

[Collection(TinyModelsCollection.Name)]
public sealed class EngineOnTinyModelTests(TinyModels models)
{
    private static readonly SamplingParams s_greedy = new() { Temperature = 0, IgnoreEos = true };

    private async Task<int[][]> RunAsync(IReadOnlyList<(int[] Prompt, string? Adapter, int Max)> jobs, bool together, KvCacheSettings kv, EngineOptions options)
    {
        var adapters = new Dictionary<string, string> { ["all"] = models.LoraAll, ["rs"] = models.LoraRs };
        var results = new int[jobs.Count][];
        async Task<int[]> One(InferenceEngine engine, int i)
        {
            var list = new List<int>();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await foreach (var e in engine.GenerateAsync(new GenerationRequest($"r{i}", jobs[i].Adapter, jobs[i].Prompt, s_greedy with { MaxTokens = jobs[i].Max }), cts.Token))
                if (e.TokenId is { } t) list.Add(t);
            return [.. list];
        }
        if (together)
        {
            using var runner = TorchModelRunner.Load(models.Base, adapters, "f32", "cpu", kvCache: kv);
            await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), new HashSet<int>(), options);
            results = await Task.WhenAll(Enumerable.Range(0, jobs.Count).Select(i => One(engine, i)));
            Console.WriteLine($"together: preemptions {engine.Preemptions}, hits {engine.PrefixCacheHitTokens}/{engine.PrefixCacheQueriedTokens}, blocks used {engine.KvBlocksUsed}");
            Assert.Equal(0, engine.KvBlocksUsed);
            return results;
        }
        for (var i = 0; i < jobs.Count; i++)
        {
            using var runner = TorchModelRunner.Load(models.Base, adapters, "f32", "cpu");
            await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), new HashSet<int>());
            results[i] = await One(engine, i);
        }
        return results;
    }

    [Fact]
    public async Task TogetherEqualsAloneOnTheTinyModel()
    {
        var rng = new Random(5);
        var shared = Enumerable.Range(0, 20).Select(_ => rng.Next(1000)).ToArray();
        string?[] adapters = [null, "all", "rs"];
        var jobs = Enumerable.Range(0, 9).Select(i => ((i % 2 == 0 ? shared : []).Concat(Enumerable.Range(0, rng.Next(1, 40)).Select(_ => rng.Next(1000))).ToArray(), adapters[i % 3], 12)).ToList();
        var alone = await RunAsync(jobs, false, KvCacheSettings.Default, new EngineOptions());
        long perToken;
        using (var probe = TorchModelRunner.Load(models.Base, null, "f32", "cpu"))
            perToken = PagedKvCache.BytesPerToken(probe.Config.NumHiddenLayers, probe.Config.KeyValueHeads, probe.Config.HeadDim, TorchSharp.torch.ScalarType.Float32);
        var together = await RunAsync(jobs, true, new KvCacheSettings(BudgetBytes: perToken * 4 * 40, BlockSize: 4, DType: "f32"), new EngineOptions { MaxBatchedTokens = 16 });
        for (var i = 0; i < jobs.Count; i++) Assert.Equal(alone[i], together[i]);
    }
}

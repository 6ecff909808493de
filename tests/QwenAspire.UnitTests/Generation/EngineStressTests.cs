using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Generation;

public sealed class EngineStressTests
{
    [Fact]
    public async Task AThousandRequestsWithRandomDisconnectsAndStopsEndWithNoBlockHeld()
    {
        var rng = new Random(1234);
        using var runner = new PagedFakeRunner(vocabSize: 32, blockSize: 4, blockCount: 48, rule: FakeRule.ContextHash);
        await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), new HashSet<int> { 30 },
            new EngineOptions { MaxQueueLength = 1000, MaxRunningSequences = 8, MaxBatchedTokens = 24 });
        int[][] prefixes = [[.. Enumerable.Range(0, 12)], [.. Enumerable.Range(5, 9)], [3]];
        string?[] adapters = [null, "a", "b"];

        var tasks = new List<Task<string>>();
        for (var i = 0; i < 1000; i++)
        {
            var prompt = prefixes[rng.Next(prefixes.Length)].Concat(Enumerable.Range(0, rng.Next(0, 8)).Select(_ => rng.Next(30))).ToArray();
            var sampling = new SamplingParams
            {
                Temperature = rng.Next(2) == 0 ? 0 : 1,
                Seed = i,
                MaxTokens = rng.Next(1, 40),
                StopStrings = rng.Next(4) == 0 ? ["q"] : [],
            };
            var mode = rng.Next(4); // 0: cancel after some events, 1: break out, else: read to the end
            var after = rng.Next(1, 10);
            tasks.Add(Task.Run(async () =>
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                var seen = 0;
                try
                {
                    await foreach (var e in engine.GenerateAsync(new GenerationRequest($"r{i}", adapters[i % 3], prompt, sampling), cts.Token))
                    {
                        if (e.Finish is { } finish) return finish.ToString();
                        if (++seen == after && mode == 0) cts.Cancel();
                        if (seen == after && mode == 1) return "break";
                    }
                    return "ended";
                }
                catch (OperationCanceledException)
                {
                    return "cancelled";
                }
            }));
        }
        var outcomes = await Task.WhenAll(tasks);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((engine.KvBlocksUsed != 0 || engine.RunningCount != 0) && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(0, engine.KvBlocksUsed);
        Assert.Equal((0, 0), (engine.RunningCount, engine.QueueDepth));
        Assert.Contains("cancelled", outcomes);
        Assert.Contains("break", outcomes);
        Assert.Contains(nameof(FinishReason.Stop), outcomes);
        Assert.Contains(nameof(FinishReason.Length), outcomes);
        Assert.True(engine.Preemptions > 0, "a 48-block pool under 8 streams must preempt");
        Assert.True(engine.PrefixCacheHitTokens > 0);
        // Every adapter request was counted out again: the unloads complete at once.
        await engine.UnloadAdapterAsync("a", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await engine.UnloadAdapterAsync("b", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }
}

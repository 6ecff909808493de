using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Generation;

/// <summary>
/// Greedy outputs of requests run together equal the same requests run alone, over the paged fake model
/// whose next token hashes the whole context read back through the block tables: any wrong block table,
/// slot, stale or cross-adapter prefix hit, or write into a shared block changes the output.
/// </summary>
public sealed class BatchingEquivalenceTests
{
    private static readonly HashSet<int> s_eos = [30];
    private static readonly SamplingParams s_greedy = new() { Temperature = 0, IgnoreEos = true };

    private sealed record Job(int[] Prompt, string? Adapter, int MaxTokens);

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static PagedFakeRunner Runner(int blockCount = 4096, int blockSize = 4) =>
        new(vocabSize: 64, maxContextLength: 4096, blockSize: blockSize, blockCount: blockCount, rule: FakeRule.ContextHash);

    private static async Task<int[]> RunAsync(InferenceEngine engine, Job job, string id)
    {
        var tokens = new List<int>();
        var request = new GenerationRequest(id, job.Adapter, job.Prompt, s_greedy with { MaxTokens = job.MaxTokens });
        await foreach (var e in engine.GenerateAsync(request, Timeout()))
            if (e.TokenId is { } t) tokens.Add(t);
        return [.. tokens];
    }

    private static async Task<int[][]> AloneAsync(IReadOnlyList<Job> jobs)
    {
        var results = new int[jobs.Count][];
        for (var i = 0; i < jobs.Count; i++)
        {
            using var runner = Runner();
            await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), s_eos, new EngineOptions { PrefixCaching = false });
            results[i] = await RunAsync(engine, jobs[i], $"alone{i}");
        }
        return results;
    }

    /// <summary>Submits every job while the first step is held, so they really run together.</summary>
    private static async Task<int[][]> TogetherAsync(PagedFakeRunner runner, InferenceEngine engine, IReadOnlyList<Job> jobs, ManualResetEventSlim gate)
    {
        var blocker = RunAsync(engine, new Job([1], null, 1), "blocker");
        Assert.True(runner.FirstStepEntered.Wait(TimeSpan.FromSeconds(20)));
        var tasks = jobs.Select((j, i) => RunAsync(engine, j, $"together{i}")).ToArray();
        gate.Set();
        await blocker;
        return await Task.WhenAll(tasks);
    }

    private static List<Job> MixedJobs(int seed, int count, int maxPrompt, string?[] adapters, int[]? sharedPrefix = null)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var own = Enumerable.Range(0, rng.Next(1, maxPrompt)).Select(_ => rng.Next(64));
            var prompt = (sharedPrefix ?? []).Concat(own).ToArray();
            return new Job(prompt, adapters[i % adapters.Length], rng.Next(3, 16));
        })];
    }

    [Fact]
    public async Task MixedPromptLengthsAndAdaptersInOneStepMatchRunningAlone()
    {
        var jobs = MixedJobs(1, 12, 40, [null, "a", "b"]);
        var alone = await AloneAsync(jobs);
        using var gate = new ManualResetEventSlim(false);
        using var runner = new PagedFakeRunner(vocabSize: 64, blockCount: 4096, rule: FakeRule.ContextHash) { Gate = gate };
        await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), s_eos, new EngineOptions { MaxRunningSequences = 12, MaxBatchedTokens = 64 });
        var together = await TogetherAsync(runner, engine, jobs, gate);

        for (var i = 0; i < jobs.Count; i++) Assert.Equal(alone[i], together[i]);
        Assert.Contains(runner.Steps, s => s.AdapterSlots.Distinct().Count() == 3);
        Assert.Contains(runner.Steps, s => s.QueryLengths.Contains(1) && s.QueryLengths.Any(q => q > 1)); // decodes + prompt chunks
        Assert.Contains(runner.Steps, s => s.Tokens == 64); // the budget was reached, so prompts were chunked
        Assert.Equal(0, engine.KvBlocksUsed);
    }

    [Fact]
    public async Task ChunkedPrefillOfLongPromptsMatchesRunningAlone()
    {
        var jobs = MixedJobs(2, 6, 120, [null, "a"]);
        var alone = await AloneAsync(jobs);
        using var gate = new ManualResetEventSlim(false);
        using var runner = new PagedFakeRunner(vocabSize: 64, blockCount: 4096, rule: FakeRule.ContextHash) { Gate = gate };
        await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), s_eos, new EngineOptions { MaxRunningSequences = 8, MaxBatchedTokens = 8 });
        var together = await TogetherAsync(runner, engine, jobs, gate);

        for (var i = 0; i < jobs.Count; i++) Assert.Equal(alone[i], together[i]);
        Assert.All(runner.Steps, s => Assert.InRange(s.Tokens, 1, 8));
    }

    [Fact]
    public async Task PrefixHitsGiveTheSameOutputsAndNeverCrossAdapters()
    {
        var shared = Enumerable.Range(0, 24).Select(i => (i * 7) % 64).ToArray();
        var jobs = MixedJobs(3, 9, 10, [null, "a", "b"], shared);
        var alone = await AloneAsync(jobs);
        using var runner = Runner();
        await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), s_eos, new EngineOptions { MaxBatchedTokens = 32 });
        // One after the other: every later request finds the shared prefix of its own adapter cached.
        for (var i = 0; i < jobs.Count; i++) Assert.Equal(alone[i], await RunAsync(engine, jobs[i], $"warm{i}"));
        // 6 of the 9 come after the first of their adapter: each hits the 24 shared tokens (6 blocks of 4).
        Assert.True(engine.PrefixCacheHitTokens >= 6 * 24, $"hit {engine.PrefixCacheHitTokens} tokens");
        Assert.Equal(0, engine.KvBlocksUsed);
    }

    [Fact]
    public async Task SiblingsSubmittedTogetherShareTheirPromptBlocks()
    {
        var prompt = Enumerable.Range(0, 17).ToArray(); // 4 full blocks + 1 token
        var jobs = Enumerable.Range(0, 4).Select(_ => new Job(prompt, "a", 6)).ToList();
        var alone = await AloneAsync(jobs[..1]);
        using var gate = new ManualResetEventSlim(false);
        using var runner = new PagedFakeRunner(vocabSize: 64, blockCount: 4096, rule: FakeRule.ContextHash) { Gate = gate };
        await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), s_eos);
        var together = await TogetherAsync(runner, engine, jobs, gate);

        Assert.All(together, t => Assert.Equal(alone[0], t));
        Assert.Equal(3 * 16, engine.PrefixCacheHitTokens); // the 3 siblings reused the first one's 4 blocks
    }

    [Fact]
    public async Task PreemptionForcedByATinyPoolGivesTheSameOutputs()
    {
        var jobs = MixedJobs(4, 8, 12, [null, "a", "b"]).Select(j => j with { MaxTokens = 20 }).ToList();
        var alone = await AloneAsync(jobs);
        using var gate = new ManualResetEventSlim(false);
        using var runner = new PagedFakeRunner(vocabSize: 64, blockSize: 4, blockCount: 14, rule: FakeRule.ContextHash) { Gate = gate };
        await using var engine = new InferenceEngine(runner, _ => new LetterDecoder(), s_eos, new EngineOptions { MaxRunningSequences = 8, MaxBatchedTokens = 16 });
        var together = await TogetherAsync(runner, engine, jobs, gate);

        for (var i = 0; i < jobs.Count; i++) Assert.Equal(alone[i], together[i]);
        Assert.True(engine.Preemptions > 0, "8 sequences of up to 32 tokens cannot all fit 14 blocks of 4");
        Assert.Equal(0, engine.KvBlocksUsed);
    }
}

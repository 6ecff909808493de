using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Generation;

/// <summary>
/// Prompt logprobs (vLLM's prompt_logprobs) on the engine with the paged fake model: every prompt position scored
/// under the context before it, across chunked prefill, without prefix-cache shortcuts, and with max_tokens 0.
/// </summary>
public sealed class PromptLogprobsTests
{
    private const int Vocab = 32;
    // Vocabulary-wide top lists, so a prompt token's logprob can always be looked up in the prefix run's list.
    private static readonly EngineOptions s_options = new() { MaxBatchedTokens = 5, MaxRunningSequences = 4, MaxLogprobs = Vocab };
    // PlusOne predicts last + 1: some prompt tokens are the model's favourite (1, 2, 3), others are not (9, 20).
    private static readonly int[] s_prompt = [1, 2, 3, 9, 10, 20, 4, 5, 6, 7, 8, 30, 0];

    private static InferenceEngine Engine(PagedFakeRunner runner, EngineOptions? options = null) =>
        new(runner, _ => new LetterDecoder(), new HashSet<int>(), options ?? s_options);

    private static GenerationRequest Request(int[] prompt, int maxTokens, int? promptLogprobs, int? logprobs = null) =>
        new("r", null, prompt, new SamplingParams
        {
            Temperature = 0,
            IgnoreEos = true,
            MaxTokens = maxTokens,
            PromptLogprobs = promptLogprobs,
            Logprobs = logprobs,
        });

    private static async Task<List<GenerationOutput>> RunAsync(InferenceEngine engine, GenerationRequest request)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var list = new List<GenerationOutput>();
        await foreach (var o in engine.GenerateAsync(request, cts.Token)) list.Add(o);
        return list;
    }

    [Fact]
    public async Task EachPromptTokenIsScoredAsTheModelScoresItGivenThePrefixAlone()
    {
        using var runner = new PagedFakeRunner(vocabSize: Vocab, blockSize: 4);
        await using var engine = Engine(runner);
        var events = await RunAsync(engine, Request(s_prompt, maxTokens: 3, promptLogprobs: 4));

        // One prompt event first (no token, no text), then the generated tokens as usual.
        var prompt = events[0].PromptLogprobs!;
        Assert.Null(events[0].TokenId);
        Assert.Equal("", events[0].TextDelta);
        Assert.All(events.Skip(1), e => Assert.Null(e.PromptLogprobs));
        Assert.Equal([1, 2, 3], events.Skip(1).Select(e => e.TokenId!.Value));
        Assert.Contains(runner.Steps, s => s.Tokens == 5 && s.LogitsRows == 5); // chunked: full prompt chunks return every row

        Assert.Equal(s_prompt.Length, prompt.Count);
        Assert.Null(prompt[0]);
        for (var j = 1; j < s_prompt.Length; j++)
        {
            // Independently: the prefix alone, one greedy token, the whole distribution of that step.
            var alone = await RunAsync(engine, Request(s_prompt[..j], maxTokens: 1, promptLogprobs: null, logprobs: Vocab));
            var distribution = alone[0].TopLogprobs!;
            var entry = prompt[j]!;
            Assert.Equal(s_prompt[j], entry.Chosen.TokenId);
            Assert.Equal(distribution.Single(t => t.TokenId == s_prompt[j]).Logprob, entry.Chosen.Logprob, 5);
            Assert.Equal(distribution.Take(4), entry.Top!);
        }
        Assert.True(prompt[1]!.Chosen.Logprob > -0.01f); // 2 after 1: the model's pick
        Assert.True(prompt[3]!.Chosen.Logprob < -5f);    // 9 after 3: not
    }

    [Fact]
    public async Task APrefixCacheHitIsNotTakenWhenThePromptMustBeScored()
    {
        using var runner = new PagedFakeRunner(vocabSize: Vocab, blockSize: 4);
        await using var engine = Engine(runner, new EngineOptions { MaxBatchedTokens = 64, MaxLogprobs = Vocab });
        var plain = await RunAsync(engine, Request(s_prompt, maxTokens: 2, promptLogprobs: null));
        var hitsBefore = engine.PrefixCacheHitTokens;
        var stepsBefore = runner.StepCount;

        var scored = await RunAsync(engine, Request(s_prompt, maxTokens: 2, promptLogprobs: 0));

        Assert.Equal(hitsBefore, engine.PrefixCacheHitTokens);
        Assert.Equal(s_prompt.Length, runner.Steps[stepsBefore].Tokens); // the whole prompt ran again
        Assert.Equal(s_prompt.Length, runner.Steps[stepsBefore].LogitsRows); // L - 1 prompt rows + the sampling row
        Assert.All(scored[0].PromptLogprobs!.Skip(1), e => Assert.Null(e!.Top)); // 0: chosen token only
        Assert.Equal(plain.Select(e => e.TokenId), scored.Skip(1).Select(e => e.TokenId));

        // Delivered once: the same prompt without prompt logprobs hits the cache again.
        await RunAsync(engine, Request(s_prompt, maxTokens: 1, promptLogprobs: null));
        Assert.True(engine.PrefixCacheHitTokens > hitsBefore);
    }

    [Fact]
    public async Task MaxTokensZeroScoresThePromptAndGeneratesNothing()
    {
        using var runner = new PagedFakeRunner(vocabSize: Vocab, blockSize: 4);
        await using var engine = Engine(runner);
        var events = await RunAsync(engine, Request(s_prompt, maxTokens: 0, promptLogprobs: 2));

        var only = Assert.Single(events);
        Assert.Null(only.TokenId);
        Assert.Equal(FinishReason.Length, only.Finish);
        Assert.Equal((s_prompt.Length, 0), (only.PromptTokens, only.CompletionTokens));
        Assert.All(only.PromptLogprobs!.Skip(1), e => Assert.Equal(2, e!.Top!.Count));
        Assert.Equal(0, engine.KvBlocksUsed);

        var unscored = Assert.Single(await RunAsync(engine, Request([1, 2], maxTokens: 0, promptLogprobs: null)));
        Assert.Equal((FinishReason.Length, (int?)null, 0), (unscored.Finish!.Value, unscored.TokenId, unscored.CompletionTokens));
        Assert.Null(unscored.PromptLogprobs);
    }

    [Fact]
    public async Task OtherSequencesInTheStepReturnOnlyTheirSamplingRow()
    {
        using var runner = new PagedFakeRunner(vocabSize: Vocab, blockSize: 4);
        await using var engine = Engine(runner, new EngineOptions { MaxBatchedTokens = 64, MaxLogprobs = Vocab, PrefixCaching = false });
        var a = RunAsync(engine, Request([5, 6, 7, 8, 9, 10], maxTokens: 1, promptLogprobs: null));
        var b = RunAsync(engine, Request([1, 2, 3, 4], maxTokens: 1, promptLogprobs: 1));
        await Task.WhenAll(a, b);
        // However the two were batched, the rows returned are: a's sampling row, b's 3 prompt rows and sampling row.
        Assert.Equal(1 + 3 + 1, runner.Steps.Sum(s => s.LogitsRows));
        Assert.Equal(4, (await b)[0].PromptLogprobs!.Count);
    }

    [Fact]
    public async Task APromptPreemptedMidwayIsScoredAgainInFull()
    {
        // B's prompt (20 tokens) prefills one token a step beside A's decode; A's growth then needs B's blocks, so B
        // (the newest) is preempted mid-prompt and recomputes it once A is done.
        int[] promptB = [.. Enumerable.Range(0, 20).Select(i => (i * 7 + 3) % 29)];
        using var aloneRunner = new PagedFakeRunner(vocabSize: Vocab, blockSize: 4, rule: FakeRule.ContextHash);
        List<GenerationOutput> expected;
        await using (var aloneEngine = Engine(aloneRunner))
            expected = await RunAsync(aloneEngine, Request(promptB, maxTokens: 2, promptLogprobs: 3));

        using var runner = new PagedFakeRunner(vocabSize: Vocab, blockSize: 4, blockCount: 8, rule: FakeRule.ContextHash)
        {
            StepDelay = TimeSpan.FromMilliseconds(2), // A is still decoding when B arrives
        };
        await using var engine = Engine(runner, new EngineOptions { MaxBatchedTokens = 2, MaxRunningSequences = 2, MaxLogprobs = Vocab });
        var a = RunAsync(engine, Request([1, 2], maxTokens: 20, promptLogprobs: null));
        Assert.True(runner.FirstStepEntered.Wait(TimeSpan.FromSeconds(10)));
        var b = await RunAsync(engine, Request(promptB, maxTokens: 2, promptLogprobs: 3));
        await a;

        Assert.True(engine.Preemptions > 0, "the scenario must preempt B");
        Assert.Equal(expected.Select(e => e.TokenId), b.Select(e => e.TokenId));
        var want = expected[0].PromptLogprobs!;
        var got = b[0].PromptLogprobs!;
        Assert.Equal(want.Count, got.Count);
        for (var i = 1; i < want.Count; i++)
        {
            Assert.Equal(want[i]!.Chosen, got[i]!.Chosen);
            Assert.Equal(want[i]!.Top!, got[i]!.Top!);
        }
    }
}

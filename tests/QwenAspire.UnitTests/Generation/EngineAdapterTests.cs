using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Generation;

/// <summary>Adapters loaded and unloaded at run time through the engine, while requests run.</summary>
public sealed class EngineAdapterTests
{
    private static readonly HashSet<int> s_eos = [30];
    private static readonly SamplingParams s_greedy = new() { Temperature = 0, IgnoreEos = true };

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static InferenceEngine Engine(PagedFakeRunner runner) => new(runner, _ => new LetterDecoder(), s_eos);

    private static async Task<List<GenerationOutput>> RunAsync(InferenceEngine engine, string? adapter, int[] prompt, int maxTokens)
    {
        var list = new List<GenerationOutput>();
        await foreach (var e in engine.GenerateAsync(new GenerationRequest("r", adapter, prompt, s_greedy with { MaxTokens = maxTokens }), Timeout()))
            list.Add(e);
        return list;
    }

    [Fact]
    public async Task TheRunnersAdaptersAreServedAndUnknownOnesAreRefusedListingThem()
    {
        using var runner = new PagedFakeRunner();
        await using var engine = Engine(runner);
        Assert.Equal(["a", "b"], engine.AdapterNames);
        var ex = Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest("r", "zzz", [1], s_greedy), Timeout()));
        Assert.Equal("Adapter", ex.ParamName);
        Assert.Contains("[a, b]", ex.Message);
        Assert.Equal(0, engine.QueueDepth);
    }

    [Fact]
    public async Task ALoadedAdapterServesRequestsAndABadOneLeavesEverythingAsItWas()
    {
        using var runner = new PagedFakeRunner();
        await using var engine = Engine(runner);
        await Assert.ThrowsAsync<ModelFormatException>(() => engine.LoadAdapterAsync("c", "/adapters/bad", Timeout()));
        Assert.Equal(["a", "b"], engine.AdapterNames);
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest("r", "c", [1], s_greedy), Timeout()));

        await engine.LoadAdapterAsync("c", "/adapters/c", Timeout());
        Assert.Equal(["a", "b", "c"], engine.AdapterNames);
        Assert.Equal(4, (await RunAsync(engine, "c", [1, 2], 4)).Count);
        Assert.Contains(runner.Steps, s => s.AdapterSlots.Contains(3));
        Assert.Equal("name", (await Assert.ThrowsAsync<ArgumentException>(() => engine.LoadAdapterAsync("c", "/adapters/c2", Timeout()))).ParamName);
    }

    [Fact]
    public async Task UnloadStopsServingAtOnceLetsAdmittedRequestsFinishThenFreesTheSlot()
    {
        using var runner = new PagedFakeRunner(maxContextLength: 1 << 20) { StepDelay = TimeSpan.FromMilliseconds(2) };
        await using var engine = Engine(runner);
        var running = engine.GenerateAsync(new GenerationRequest("long", "a", [1], s_greedy with { MaxTokens = 60 }), Timeout()).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync());

        var unload = engine.UnloadAdapterAsync("a", Timeout());
        Assert.Equal(["b"], engine.AdapterNames);
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest("late", "a", [1], s_greedy), Timeout()));
        Assert.False(unload.IsCompleted);

        var count = 1;
        while (await running.MoveNextAsync()) count++;
        await running.DisposeAsync();
        Assert.Equal(60, count);
        await unload;
        Assert.Equal([1], runner.UnloadedSlots);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => engine.UnloadAdapterAsync("a", Timeout()));
    }

    [Fact]
    public async Task AReloadedAdapterNeverMeetsTheKvBlocksOfItsOldLoad()
    {
        using var runner = new PagedFakeRunner(vocabSize: 64, rule: FakeRule.ContextHash);
        await using var engine = Engine(runner);
        int[] prompt = [.. Enumerable.Range(0, 20)];
        await engine.LoadAdapterAsync("c", "/adapters/c", Timeout());
        await RunAsync(engine, "c", prompt, 3);
        await RunAsync(engine, "c", prompt, 3);
        var hitsBefore = engine.PrefixCacheHitTokens;
        Assert.True(hitsBefore > 0, "the same adapter reuses its own prefix");

        await engine.UnloadAdapterAsync("c", Timeout());
        await engine.LoadAdapterAsync("c", "/adapters/c", Timeout());
        // The fake runner throws if a sequence reads KV written under another adapter slot; the new load must miss.
        Assert.Equal(3, (await RunAsync(engine, "c", prompt, 3)).Count(e => e.TokenId is not null));
        Assert.Equal(hitsBefore, engine.PrefixCacheHitTokens);
    }

    [Fact]
    public async Task AMergedAdapterCannotBeUnloadedAndTheBaseModelIsNotServedBesideIt()
    {
        using var runner = new PagedFakeRunner(adapters: [new RunnerAdapter("merged", 0)]) { ServesBaseModel = false };
        await using var engine = Engine(runner);
        Assert.Equal("Adapter", Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest("r", null, [1], s_greedy), Timeout())).ParamName);
        Assert.Equal(2, (await RunAsync(engine, "merged", [1], 2)).Count);
        await Assert.ThrowsAsync<InvalidOperationException>(() => engine.UnloadAdapterAsync("merged", Timeout()));
    }
}

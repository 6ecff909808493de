using System.Diagnostics.Metrics;
using QwenAspire.Engine.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Generation;

public sealed class InferenceEngineTests
{
    private static readonly HashSet<int> s_eos = [30];

    private static InferenceEngine Engine(PagedFakeRunner runner, EngineOptions? options = null, InferenceMetrics? metrics = null) =>
        new(runner, _ => new LetterDecoder(), s_eos, options, metrics);

    private static GenerationRequest Request(string id, int[] prompt, int maxTokens = 5, string? adapter = null, SamplingParams? sampling = null) =>
        new(id, adapter, prompt, (sampling ?? new SamplingParams { Temperature = 0 }) with { MaxTokens = maxTokens });

    private static readonly SamplingParams NoEos = new() { Temperature = 0, IgnoreEos = true };

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static async Task<List<GenerationOutput>> CollectAsync(IAsyncEnumerable<GenerationOutput> stream)
    {
        var list = new List<GenerationOutput>();
        await foreach (var o in stream) list.Add(o);
        return list;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var ct = Timeout();
        while (!condition()) await Task.Delay(5, ct);
    }

    [Fact]
    public async Task StreamingDeliversTokensInOrderAndEndsWithLength()
    {
        using var runner = new PagedFakeRunner();
        await using var engine = Engine(runner);
        var events = await CollectAsync(engine.GenerateAsync(Request("r1", [1, 2]), Timeout()));
        Assert.Equal([3, 4, 5, 6, 7], events.Select(e => e.TokenId!.Value));
        Assert.Equal("defgh", string.Concat(events.Select(e => e.TextDelta)));
        Assert.All(events[..^1], e => Assert.Null(e.Finish));
        Assert.Equal(FinishReason.Length, events[^1].Finish);
        Assert.Equal((2, 5), (events[^1].PromptTokens, events[^1].CompletionTokens));
        Assert.Equal(0, engine.KvBlocksUsed); // blocks go back before the stream completes
    }

    [Fact]
    public async Task EosEndsTheStreamWithStop()
    {
        using var runner = new PagedFakeRunner();
        await using var engine = Engine(runner);
        var events = await CollectAsync(engine.GenerateAsync(Request("r1", [27], maxTokens: 50), Timeout()));
        Assert.Equal([28, 29, 30], events.Select(e => e.TokenId!.Value));
        Assert.Equal((FinishReason.Stop, "cd"), (events[^1].Finish!.Value, string.Concat(events.Select(e => e.TextDelta))));
    }

    [Fact]
    public async Task ConcurrentRequestsEachGetTheirOwnStream()
    {
        using var runner = new PagedFakeRunner();
        await using var engine = Engine(runner, new EngineOptions { MaxRunningSequences = 3 });
        var tasks = Enumerable.Range(0, 8)
            .Select(i => CollectAsync(engine.GenerateAsync(Request($"r{i}", [i], maxTokens: 4 + i), Timeout())))
            .ToArray();
        var results = await Task.WhenAll(tasks);
        for (var i = 0; i < 8; i++)
            Assert.Equal(Enumerable.Range(i + 1, 4 + i), results[i].Select(e => e.TokenId!.Value));
        Assert.All(runner.Steps, s => Assert.InRange(s.Sequences, 1, 3));
        Assert.Contains(runner.Steps, s => s.Sequences == 3);
    }

    [Fact]
    public async Task AFullQueueRefusesSynchronouslyWithRetryAfter()
    {
        using var gate = new ManualResetEventSlim(false);
        using var runner = new PagedFakeRunner { Gate = gate };
        await using var engine = Engine(runner, new EngineOptions { MaxQueueLength = 2, MaxRunningSequences = 1, OverloadRetryAfter = TimeSpan.FromSeconds(3) });
        var first = CollectAsync(engine.GenerateAsync(Request("r0", [1]), Timeout()));
        Assert.True(runner.FirstStepEntered.Wait(TimeSpan.FromSeconds(20)));
        var queued = new[] { CollectAsync(engine.GenerateAsync(Request("r1", [2]), Timeout())), CollectAsync(engine.GenerateAsync(Request("r2", [3]), Timeout())) };
        Assert.Equal(2, engine.QueueDepth);
        var ex = Assert.Throws<EngineOverloadedException>(() => engine.GenerateAsync(Request("r3", [4]), Timeout()));
        Assert.Equal(TimeSpan.FromSeconds(3), ex.RetryAfter);
        // A request that could never run is refused as such, not told to retry.
        Assert.Equal("Adapter", Assert.Throws<ArgumentException>(() => engine.GenerateAsync(Request("r4", [4], adapter: "zzz"), Timeout())).ParamName);
        gate.Set();
        Assert.Equal(5, (await first).Count);
        Assert.All(await Task.WhenAll(queued), r => Assert.Equal(FinishReason.Length, r[^1].Finish));
    }

    [Fact]
    public async Task AQueuedRequestTheClientGaveUpOnFreesItsPlaceBeforeTheNextStep()
    {
        using var gate = new ManualResetEventSlim(false);
        using var runner = new PagedFakeRunner { Gate = gate };
        await using var engine = Engine(runner, new EngineOptions { MaxQueueLength = 2, MaxRunningSequences = 1 });
        var first = CollectAsync(engine.GenerateAsync(Request("r0", [1]), Timeout()));
        Assert.True(runner.FirstStepEntered.Wait(TimeSpan.FromSeconds(20)));
        using var gaveUp = CancellationTokenSource.CreateLinkedTokenSource(Timeout());
        var cancelled = CollectAsync(engine.GenerateAsync(Request("r1", [2]), gaveUp.Token));
        var kept = CollectAsync(engine.GenerateAsync(Request("r2", [3]), Timeout()));
        Assert.Throws<EngineOverloadedException>(() => engine.GenerateAsync(Request("r3", [4]), Timeout()));
        // The loop is still inside its step (the gate is shut), yet the place is free at once.
        await gaveUp.CancelAsync();
        Assert.Equal(1, engine.QueueDepth);
        var late = CollectAsync(engine.GenerateAsync(Request("r4", [4]), Timeout()));
        Assert.Equal(2, engine.QueueDepth);
        gate.Set();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(FinishReason.Length, (await kept)[^1].Finish);
        Assert.Equal(FinishReason.Length, (await late)[^1].Finish);
        Assert.Equal(5, (await first).Count);
        Assert.Equal(0, engine.QueueDepth);
    }

    [Fact]
    public async Task CancellingMidStreamReleasesWithinOneStepAndOthersContinue()
    {
        using var runner = new PagedFakeRunner(maxContextLength: 1 << 20, blockCount: 1 << 16) { StepDelay = TimeSpan.FromMilliseconds(2) };
        await using var engine = Engine(runner, new EngineOptions { MaxRunningSequences = 4 });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Timeout());
        var other = CollectAsync(engine.GenerateAsync(Request("other", [5], maxTokens: 40, sampling: NoEos), Timeout()));

        var received = 0;
        var sharedAtCancel = -1;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var e in engine.GenerateAsync(Request("victim", [1], maxTokens: 100_000), cts.Token))
            {
                if (++received == 3)
                {
                    cts.Cancel();
                    sharedAtCancel = runner.Steps.Count(s => s.Sequences == 2);
                }
            }
        });
        Assert.Equal(40, (await other).Count);
        // Steps that ran both requests: at most one more once the victim cancelled.
        Assert.InRange(runner.Steps.Count(s => s.Sequences == 2) - sharedAtCancel, 0, 1);
        await WaitUntilAsync(() => engine.KvBlocksUsed == 0);
        Assert.Equal(0, engine.RunningCount);
    }

    [Fact]
    public async Task AbandoningTheEnumerationReleasesTheSequence()
    {
        using var runner = new PagedFakeRunner(maxContextLength: 1 << 20, blockCount: 1 << 16) { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using var engine = Engine(runner);
        await foreach (var e in engine.GenerateAsync(Request("r", [1], maxTokens: 100_000), Timeout()))
            if (e.CompletionTokens == 2) break;
        await WaitUntilAsync(() => engine.KvBlocksUsed == 0 && engine.RunningCount == 0);
        Assert.True(runner.StepCount < 1000);
    }

    [Fact]
    public async Task ARunnerExceptionFailsOnlyThatRequest()
    {
        using var runner = new PagedFakeRunner(maxContextLength: 1 << 20) { PoisonToken = 31, StepDelay = TimeSpan.FromMilliseconds(1) };
        await using var engine = Engine(runner);
        var healthy = engine.GenerateAsync(Request("ok", [1], maxTokens: 30, sampling: NoEos), Timeout()).GetAsyncEnumerator();
        Assert.True(await healthy.MoveNextAsync()); // running before the bad one arrives
        var ex = await Assert.ThrowsAsync<InferenceFailedException>(() => CollectAsync(engine.GenerateAsync(Request("bad", [2, 31]), Timeout())));
        Assert.Equal("bad", ex.RequestId);
        var rest = 1;
        while (await healthy.MoveNextAsync()) rest++;
        Assert.Equal(30, rest);
        await healthy.DisposeAsync();
        Assert.Equal(3, (await CollectAsync(engine.GenerateAsync(Request("after", [3], maxTokens: 3), Timeout()))).Count);
        Assert.Equal(0, engine.KvBlocksUsed);
    }

    [Fact]
    public async Task SequencesOfEveryAdapterShareOneStep()
    {
        using var gate = new ManualResetEventSlim(false);
        using var runner = new PagedFakeRunner { Gate = gate };
        await using var engine = Engine(runner, new EngineOptions { MaxRunningSequences = 8 });
        var blocker = CollectAsync(engine.GenerateAsync(Request("block", [0], maxTokens: 1), Timeout()));
        Assert.True(runner.FirstStepEntered.Wait(TimeSpan.FromSeconds(20)));
        string?[] adapters = [null, "a", "b", "a", null, "b", "a"];
        var tasks = adapters.Select((a, i) => CollectAsync(engine.GenerateAsync(Request($"r{i}", [i], maxTokens: 3, adapter: a), Timeout()))).ToArray();
        gate.Set();
        await blocker;
        var results = await Task.WhenAll(tasks);
        for (var i = 0; i < adapters.Length; i++) Assert.Equal([i + 1, i + 2, i + 3], results[i].Select(e => e.TokenId!.Value));
        // All seven prompts were admitted together: one step holds the base model and both adapters.
        Assert.Contains(runner.Steps, s => s.Sequences == 7 && s.AdapterSlots.Distinct().Count() == 3);
    }

    [Fact]
    public async Task ASeededRequestGetsTheSameTokensAloneAndInACrowd()
    {
        var sampling = new SamplingParams { Temperature = 1, Seed = 1234 };
        using var alone = new PagedFakeRunner(rule: FakeRule.Flat);
        List<GenerationOutput> first;
        await using (var engine = Engine(alone)) first = await CollectAsync(engine.GenerateAsync(Request("s", [1], 20, sampling: sampling), Timeout()));

        using var crowded = new PagedFakeRunner(rule: FakeRule.Flat);
        await using var busy = Engine(crowded, new EngineOptions { MaxRunningSequences = 4 });
        var noise = Enumerable.Range(0, 3).Select(i => CollectAsync(busy.GenerateAsync(Request($"n{i}", [2], 20, sampling: new SamplingParams { Temperature = 1 }), Timeout()))).ToArray();
        var second = await CollectAsync(busy.GenerateAsync(Request("s", [1], 20, sampling: sampling), Timeout()));
        await Task.WhenAll(noise);
        Assert.Equal(first.Select(e => e.TokenId), second.Select(e => e.TokenId));
        Assert.True(first.Select(e => e.TokenId).Distinct().Count() > 5, "flat logits should give varied tokens");
    }

    [Fact]
    public async Task InvalidRequestsAreRefusedAtSubmitNamingTheProblem()
    {
        using var runner = new PagedFakeRunner(maxContextLength: 8);
        await using var engine = Engine(runner);
        Assert.Throws<ContextLengthExceededException>(() => engine.GenerateAsync(Request("r", [1, 2, 3, 4, 5, 6, 7, 8]), Timeout()));
        Assert.Equal("Adapter", Assert.Throws<ArgumentException>(() => engine.GenerateAsync(Request("r", [1], adapter: "zzz"), Timeout())).ParamName);
        Assert.Equal("PromptTokens", Assert.Throws<ArgumentOutOfRangeException>(() => engine.GenerateAsync(Request("r", [99]), Timeout())).ParamName);
        Assert.Equal("top_p", Assert.Throws<ArgumentOutOfRangeException>(() => engine.GenerateAsync(Request("r", [1], sampling: new SamplingParams { TopP = 0 }), Timeout())).ParamName);
        Assert.Equal(0, engine.QueueDepth);
    }

    [Fact]
    public async Task DisposeAbortsWhatCannotFinishInTime()
    {
        using var runner = new PagedFakeRunner(maxContextLength: 1 << 20, blockCount: 1 << 16) { StepDelay = TimeSpan.FromMilliseconds(1) };
        var engine = Engine(runner, new EngineOptions { ShutdownTimeout = TimeSpan.FromMilliseconds(50) });
        var stream = CollectAsync(engine.GenerateAsync(Request("r", [1], maxTokens: 1_000_000, sampling: NoEos), Timeout()));
        await WaitUntilAsync(() => runner.StepCount > 0);
        await engine.DisposeAsync();
        Assert.Equal(FinishReason.Abort, (await stream)[^1].Finish);
        Assert.Equal(0, engine.KvBlocksUsed);
        Assert.Throws<ObjectDisposedException>(() => engine.GenerateAsync(Request("late", [1]), Timeout()));
    }

    [Fact]
    public async Task MetricsCountRequestsAndTokens()
    {
        long requests = 0, generated = 0, prompt = 0;
        string? reason = null;
        using var listener = new MeterListener();
        using var metrics = new InferenceMetrics();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == InferenceMetrics.MeterName) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) =>
        {
            if (i.Name == InferenceMetrics.RequestsName)
            {
                Interlocked.Add(ref requests, v);
                foreach (var t in tags) if (t.Key == InferenceMetrics.FinishReasonTag) reason = (string?)t.Value;
            }
            else if (i.Name == InferenceMetrics.GeneratedTokensName) Interlocked.Add(ref generated, v);
            else if (i.Name == InferenceMetrics.PromptTokensName) Interlocked.Add(ref prompt, v);
        });
        listener.Start();
        using var runner = new PagedFakeRunner();
        await using (var engine = Engine(runner, metrics: metrics))
            await CollectAsync(engine.GenerateAsync(Request("r", [1, 2, 3], maxTokens: 4), Timeout()));
        Assert.Equal((1L, 4L, 3L, "length"), (Interlocked.Read(ref requests), Interlocked.Read(ref generated), Interlocked.Read(ref prompt), reason));
    }

    [Fact]
    public async Task MetricsReportKvBlocksPrefixHitsPreemptionsAndStepSizes()
    {
        var observed = new Dictionary<string, long>();
        var stepSizes = new List<(string Name, int Value)>();
        using var listener = new MeterListener();
        using var metrics = new InferenceMetrics();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == InferenceMetrics.MeterName) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => { lock (observed) observed[i.Name] = v; });
        listener.SetMeasurementEventCallback<int>((i, v, _, _) =>
        {
            lock (observed) observed[i.Name] = v;
            if (i.Name is InferenceMetrics.BatchSizeName or InferenceMetrics.BatchTokensName) lock (stepSizes) stepSizes.Add((i.Name, v));
        });
        listener.Start();
        using var gate = new ManualResetEventSlim(true);
        using var runner = new PagedFakeRunner(blockSize: 4, blockCount: 10) { Gate = gate };
        await using var engine = Engine(runner, new EngineOptions { MaxRunningSequences = 4 }, metrics);
        int[] prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        await CollectAsync(engine.GenerateAsync(Request("warm", prompt, maxTokens: 2, sampling: NoEos), Timeout()));
        // Hold the loop inside a one-token request's step while the crowd arrives, so all four are admitted together.
        gate.Reset();
        runner.FirstStepEntered.Reset();
        var blocker = CollectAsync(engine.GenerateAsync(Request("blocker", [20, 21], maxTokens: 1, sampling: NoEos), Timeout()));
        Assert.True(runner.FirstStepEntered.Wait(TimeSpan.FromSeconds(20)), "the blocker's step never started");
        var crowd = Enumerable.Range(0, 4).Select(i => CollectAsync(engine.GenerateAsync(Request($"r{i}", prompt, maxTokens: 10, sampling: NoEos), Timeout()))).ToList();
        gate.Set();
        await blocker;
        await Task.WhenAll(crowd);
        listener.RecordObservableInstruments();

        lock (observed)
        {
            Assert.Equal(0, observed[InferenceMetrics.KvBlocksUsedName]);
            Assert.Equal(10, observed[InferenceMetrics.KvBlocksFreeName]);
            Assert.True(observed[InferenceMetrics.PrefixHitTokensName] >= 4 * 8, $"hit {observed[InferenceMetrics.PrefixHitTokensName]}");
            Assert.True(observed[InferenceMetrics.PrefixQueriedTokensName] >= 5 * 9);
            Assert.True(observed[InferenceMetrics.PreemptionsName] > 0, "4 sequences of 19 tokens cannot share 10 blocks of 4");
            Assert.Equal(0, observed[InferenceMetrics.RunningName]);
        }
        lock (stepSizes)
        {
            Assert.Contains((InferenceMetrics.BatchSizeName, 4), stepSizes);
            Assert.Equal(runner.StepCount, stepSizes.Count(s => s.Name == InferenceMetrics.BatchTokensName));
        }
    }
}

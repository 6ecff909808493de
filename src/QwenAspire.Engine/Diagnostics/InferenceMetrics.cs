using System.Diagnostics.Metrics;

namespace QwenAspire.Engine.Diagnostics;

/// <summary>
/// The engine's OpenTelemetry-ready instruments, on the meter <see cref="MeterName"/> (add it with
/// <c>metrics.AddMeter(InferenceMetrics.MeterName)</c>). Counters and histograms are recorded by the
/// engine loop; gauges are observed from the engine given to <see cref="Observe"/>.
/// </summary>
public sealed class InferenceMetrics : IDisposable
{
    public const string MeterName = "QwenAspire.Inference";

    public const string RequestsName = "qwenaspire.requests";
    public const string PromptTokensName = "qwenaspire.tokens.prompt";
    public const string GeneratedTokensName = "qwenaspire.tokens.generated";
    public const string TimeToFirstTokenName = "qwenaspire.time_to_first_token";
    public const string InterTokenLatencyName = "qwenaspire.inter_token_latency";
    public const string RequestDurationName = "qwenaspire.request.duration";
    public const string QueueDepthName = "qwenaspire.queue.depth";
    public const string RunningName = "qwenaspire.sequences.running";
    public const string WaitingName = "qwenaspire.sequences.waiting";
    /// <summary>Histogram: sequences in one engine step.</summary>
    public const string BatchSizeName = "qwenaspire.batch.size";
    /// <summary>Histogram: tokens (prefill chunks + decodes) in one engine step.</summary>
    public const string BatchTokensName = "qwenaspire.batch.tokens";
    public const string KvBlocksUsedName = "qwenaspire.kv_blocks.used";
    public const string KvBlocksFreeName = "qwenaspire.kv_blocks.free";
    public const string PrefixQueriedTokensName = "qwenaspire.prefix_cache.queried_tokens";
    public const string PrefixHitTokensName = "qwenaspire.prefix_cache.hit_tokens";
    public const string PreemptionsName = "qwenaspire.preemptions";

    /// <summary>Tag on <see cref="RequestsName"/>: stop | length | abort | error.</summary>
    public const string FinishReasonTag = "finish_reason";
    /// <summary>Tag on the counters and histograms: the adapter name, or the engine's model name.</summary>
    public const string ModelTag = "model";

    private static readonly double[] s_latencyBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10];
    private static readonly int[] s_batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
    private static readonly double[] s_durationBuckets =
        [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _generatedTokens;
    private readonly Histogram<double> _ttft;
    private readonly Histogram<double> _itl;
    private readonly Histogram<double> _duration;
    private readonly Histogram<int> _batchSequences;
    private readonly Histogram<int> _batchTokens;
    private volatile IEngineStatistics? _stats;

    /// <param name="meterFactory">The host's factory (DI); null creates a standalone meter this object disposes.</param>
    public InferenceMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _requests = _meter.CreateCounter<long>(RequestsName, "{request}", "Finished requests by finish reason.");
        _promptTokens = _meter.CreateCounter<long>(PromptTokensName, "{token}", "Prompt tokens admitted to the engine.");
        _generatedTokens = _meter.CreateCounter<long>(GeneratedTokensName, "{token}", "Tokens generated.");
        _ttft = _meter.CreateHistogram(TimeToFirstTokenName, "s", "Time from submission to the first generated token.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _itl = _meter.CreateHistogram(InterTokenLatencyName, "s", "Time between consecutive generated tokens of a request.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_latencyBuckets });
        _duration = _meter.CreateHistogram(RequestDurationName, "s", "Time from submission to the last event of a request.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _meter.CreateObservableGauge(QueueDepthName, () => _stats?.QueueDepth ?? 0, "{request}", "Requests waiting to be scheduled.");
        _batchSequences = _meter.CreateHistogram(BatchSizeName, "{sequence}", "Sequences in one engine step (decodes and prefill chunks).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_batchBuckets });
        _batchTokens = _meter.CreateHistogram(BatchTokensName, "{token}", "Tokens run through the model in one engine step.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_batchBuckets });
        _meter.CreateObservableGauge(RunningName, () => _stats?.RunningCount ?? 0, "{sequence}", "Sequences running (decoding or prefilling).");
        _meter.CreateObservableGauge(WaitingName, () => _stats?.WaitingSequences ?? 0, "{sequence}", "Sequences waiting for KV room or a seat, preempted ones included.");
        _meter.CreateObservableGauge(KvBlocksUsedName, () => _stats?.KvBlocksUsed ?? 0, "{block}", "KV cache blocks held by sequences.");
        _meter.CreateObservableGauge(KvBlocksFreeName, () => _stats?.KvBlocksFree ?? 0, "{block}", "KV cache blocks free (cached prefixes among them stay reusable).");
        _meter.CreateObservableCounter(PrefixQueriedTokensName, () => _stats?.PrefixCacheQueriedTokens ?? 0, "{token}", "Prompt tokens looked up in the prefix cache.");
        _meter.CreateObservableCounter(PrefixHitTokensName, () => _stats?.PrefixCacheHitTokens ?? 0, "{token}", "Prompt tokens served from the prefix cache (hit rate: this / queried).");
        _meter.CreateObservableCounter(PreemptionsName, () => _stats?.Preemptions ?? 0, "{sequence}", "Running sequences preempted to recompute later, to free KV blocks.");
    }

    /// <summary>Points the gauges at an engine's statistics (the engine calls it; metrics never see the engine itself).</summary>
    public void Observe(IEngineStatistics engine) => _stats = engine;

    internal void StepRan(int sequences, int tokens)
    {
        _batchSequences.Record(sequences);
        _batchTokens.Record(tokens);
    }

    internal void RequestAdmitted(string model, int promptTokens) =>
        _promptTokens.Add(promptTokens, new KeyValuePair<string, object?>(ModelTag, model));

    internal void TokenGenerated(string model, double? timeToFirstTokenSeconds, double? interTokenSeconds)
    {
        var tag = new KeyValuePair<string, object?>(ModelTag, model);
        _generatedTokens.Add(1, tag);
        if (timeToFirstTokenSeconds is { } t) _ttft.Record(t, tag);
        if (interTokenSeconds is { } i) _itl.Record(i, tag);
    }

    internal void RequestFinished(string model, string finishReason, double durationSeconds)
    {
        var modelTag = new KeyValuePair<string, object?>(ModelTag, model);
        _requests.Add(1, modelTag, new KeyValuePair<string, object?>(FinishReasonTag, finishReason));
        _duration.Record(durationSeconds, modelTag);
    }

    public void Dispose()
    {
        if (_ownsMeter) _meter.Dispose();
    }
}

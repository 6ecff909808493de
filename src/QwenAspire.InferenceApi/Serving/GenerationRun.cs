using System.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Diagnostics;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// A submitted request: the engine events of all its generations as one stream of (choice index, event),
/// and its telemetry span. Disposing it (the handler's <c>await using</c>) cancels whatever still runs.
/// </summary>
public sealed partial class GenerationRun : IAsyncDisposable
{
    private readonly ChoiceStreams _streams;
    private readonly Activity? _activity;
    private readonly ILogger _logger;
    private readonly long _started = Stopwatch.GetTimestamp();

    internal GenerationRun(PreparedGeneration prepared, ChoiceStreams streams, Activity? activity, ILogger logger)
    {
        Prepared = prepared;
        _streams = streams;
        _activity = activity;
        _logger = logger;
    }

    public PreparedGeneration Prepared { get; }

    public string Id => Prepared.Id;

    public IAsyncEnumerable<(int Index, GenerationOutput Output)> ReadAllAsync(CancellationToken cancellationToken) =>
        _streams.ReadAllAsync(cancellationToken);

    /// <summary>Token counts and finish reasons on the span and in the one log line of the request, once the last event is read.</summary>
    public void RecordResult(int completionTokens, IEnumerable<string?> finishReasons)
    {
        var reasons = finishReasons.ToList();
        InferenceApiTelemetry.RecordResult(_activity, Prepared.PromptTokens, completionTokens, reasons);
        LogFinished(_logger, Prepared.Operation, Prepared.ModelName, Prepared.Id, Prepared.PromptTokens, completionTokens,
            string.Join(",", reasons.Select(r => r ?? "none").Distinct()), Stopwatch.GetElapsedTime(_started).TotalSeconds);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Operation} {Model} {Id}: {PromptTokens} prompt + {CompletionTokens} completion tokens, finish {FinishReasons}, {Seconds:0.00} s")]
    private static partial void LogFinished(ILogger logger, string operation, string model, string id, int promptTokens, int completionTokens,
        string finishReasons, double seconds);

    public async ValueTask DisposeAsync()
    {
        await _streams.DisposeAsync();
        _activity?.Dispose();
    }
}

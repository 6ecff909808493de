using System.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Diagnostics;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// A submitted request: the engine events of all its generations as one stream of (choice index, event),
/// and its telemetry span. Disposing it (the handler's <c>await using</c>) cancels whatever still runs.
/// </summary>
public sealed class GenerationRun : IAsyncDisposable
{
    private readonly ChoiceStreams _streams;
    private readonly Activity? _activity;

    internal GenerationRun(PreparedGeneration prepared, ChoiceStreams streams, Activity? activity)
    {
        Prepared = prepared;
        _streams = streams;
        _activity = activity;
    }

    public PreparedGeneration Prepared { get; }

    public string Id => Prepared.Id;

    public IAsyncEnumerable<(int Index, GenerationOutput Output)> ReadAllAsync(CancellationToken cancellationToken) =>
        _streams.ReadAllAsync(cancellationToken);

    /// <summary>Token counts and finish reasons on the span, once the last event is read.</summary>
    public void RecordResult(int completionTokens, IEnumerable<string?> finishReasons) =>
        InferenceApiTelemetry.RecordResult(_activity, Prepared.PromptTokens, completionTokens, finishReasons);

    public async ValueTask DisposeAsync()
    {
        await _streams.DisposeAsync();
        _activity?.Dispose();
    }
}

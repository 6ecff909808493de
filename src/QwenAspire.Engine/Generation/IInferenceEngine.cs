namespace QwenAspire.Engine.Generation;

/// <summary>
/// The server's view of the engine: one loop owns the model; requests reach it through a channel.
/// Cancelling the token (client disconnect) aborts the sequence within one decode step and frees its KV.
/// </summary>
public interface IInferenceEngine
{
    /// <summary>Queues a request and streams its events; the last event has <see cref="GenerationOutput.Finish"/>.</summary>
    /// <exception cref="EngineOverloadedException">The waiting queue is full (HTTP 429).</exception>
    IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken);

    /// <summary>Requests waiting to be scheduled.</summary>
    int QueueDepth { get; }
    /// <summary>Sequences currently being decoded.</summary>
    int RunningCount { get; }

    /// <summary>Adapter names requests may use right now (a snapshot; changes with load/unload).</summary>
    IReadOnlyCollection<string> AdapterNames { get; }

    /// <summary>
    /// Loads a PEFT adapter on the engine thread between steps and serves it under <paramref name="name"/>;
    /// running requests are not disturbed. Completes once requests may use it.
    /// </summary>
    /// <exception cref="ArgumentException">The name is taken (ParamName "name").</exception>
    /// <exception cref="Model.ModelFormatException">The folder is not an adapter that fits the model.</exception>
    Task LoadAdapterAsync(string name, string folder, CancellationToken cancellationToken);

    /// <summary>
    /// Stops serving <paramref name="name"/> at once (new requests for it are refused as unknown); requests already
    /// admitted for it finish normally, then its weights are freed. Completes when they are freed.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No adapter of that name is loaded.</exception>
    Task UnloadAdapterAsync(string name, CancellationToken cancellationToken);
}

/// <summary>The engine's queue is full; retry after <see cref="RetryAfter"/>.</summary>
public sealed class EngineOverloadedException(TimeSpan retryAfter)
    : Exception($"The engine queue is full; retry after {retryAfter.TotalSeconds:0} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

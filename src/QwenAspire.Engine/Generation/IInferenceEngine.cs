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
}

/// <summary>The engine's queue is full; retry after <see cref="RetryAfter"/>.</summary>
public sealed class EngineOverloadedException(TimeSpan retryAfter)
    : Exception($"The engine queue is full; retry after {retryAfter.TotalSeconds:0} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

using System.Diagnostics;
using System.Threading.Channels;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Diagnostics;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// The n generations of one request, read as one stream of (choice index, event). Each generation is
/// pumped into an unbounded channel so a slow client never blocks the engine loop; disposing (or the
/// client disconnecting) cancels them all, which frees their sequences within one decode step.
/// </summary>
public sealed class ChoiceStreams : IAsyncDisposable
{
    private readonly Channel<Item> _channel = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _cts;
    private readonly Task[] _pumps;
    private Item? _first;
    private int _remaining;

    private readonly record struct Item(int Index, GenerationOutput? Output, Exception? Error);

    private ChoiceStreams(IInferenceEngine engine, IReadOnlyList<GenerationRequest> requests, CancellationToken cancellationToken)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _remaining = requests.Count;
        // Admission is synchronous in the engine: submitting every choice here, before any pump runs, means a
        // refusal of choice k (queue full) is known before choice 0 can produce a token, so the whole request
        // gets its 429/400 instead of a late 500 or an error event.
        var sources = new IAsyncEnumerable<GenerationOutput>[requests.Count];
        try
        {
            for (int i = 0; i < requests.Count; i++)
                sources[i] = engine.GenerateAsync(requests[i], _cts.Token);
        }
        catch
        {
            _cts.Cancel(); // the choices already admitted leave the engine before its next step
            _cts.Dispose();
            throw;
        }
        _pumps = sources.Select((source, i) => Task.Run(() => PumpAsync(source, i), CancellationToken.None)).ToArray();
    }

    /// <summary>
    /// Submits the n generations of one request and waits for the first event, or returns the error the engine
    /// refused them with (before any token, so it can still be answered with a status code).
    /// </summary>
    /// <param name="maxQueueLength">engine.max_queue_length: a request with more generations can never be admitted.</param>
    public static async Task<(ChoiceStreams? Streams, ApiError? Refused)> StartAsync(
        ServedModels models, IReadOnlyList<GenerationRequest> requests, int maxQueueLength, Activity? activity, CancellationToken cancellationToken)
    {
        if (requests.Count > maxQueueLength)
        {
            // All n are queued at once, so more than the queue holds is refused every time: not a retryable 429.
            var never = ApiError.BadRequest($"The request asks for {requests.Count} generations (n × prompts) but the server queues at most " +
                                            $"{maxQueueLength} (engine.max_queue_length); lower n.", "n", "invalid_value");
            InferenceApiTelemetry.RecordError(activity, never.Code!, never.Message);
            return (null, never);
        }
        ChoiceStreams? streams = null;
        try
        {
            streams = new ChoiceStreams(models.Engine, requests, cancellationToken);
            await streams.WaitForFirstAsync(cancellationToken);
            return (streams, null);
        }
        catch (Exception ex) when (Refusal(ex, models, requests[0].Adapter) is { } refused)
        {
            if (streams is not null) await streams.DisposeAsync();
            InferenceApiTelemetry.RecordError(activity, refused.Code ?? refused.Type, refused.Message);
            return (null, refused);
        }
        catch
        {
            if (streams is not null) await streams.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// An adapter unloaded between name resolution and admission is refused by the engine as an argument
    /// ("Adapter"); the client gets the same 404 as for a name that was never served.
    /// </summary>
    private static ApiError? Refusal(Exception ex, ServedModels models, string? adapter) =>
        ex is ArgumentException { ParamName: "Adapter" } && adapter is not null
            ? ApiError.ModelNotFound(adapter, models.Names)
            : EngineErrors.From(ex);

    /// <summary>
    /// Waits for the first event: an engine that refuses lazily (on the first read rather than on submission)
    /// is still answered with a status code instead of a started stream.
    /// </summary>
    /// <exception cref="EngineOverloadedException">The engine queue is full.</exception>
    /// <exception cref="ArgumentException">The engine refused the request's values.</exception>
    private async Task WaitForFirstAsync(CancellationToken cancellationToken)
    {
        if (_first is not null) return;
        if (!await _channel.Reader.WaitToReadAsync(cancellationToken)) return;
        var item = await _channel.Reader.ReadAsync(cancellationToken);
        if (item.Error is EngineOverloadedException or ArgumentException)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(item.Error);
        _first = item;
    }

    public async IAsyncEnumerable<(int Index, GenerationOutput Output)> ReadAllAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_first is { } first)
        {
            _first = null;
            yield return Unwrap(first);
        }
        await foreach (var item in _channel.Reader.ReadAllAsync(cancellationToken))
            yield return Unwrap(item);
    }

    private static (int, GenerationOutput) Unwrap(Item item)
    {
        if (item.Error is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(item.Error);
        return (item.Index, item.Output!);
    }

    private async Task PumpAsync(IAsyncEnumerable<GenerationOutput> source, int index)
    {
        try
        {
            await foreach (var output in source.WithCancellation(_cts.Token))
                _channel.Writer.TryWrite(new Item(index, output, null));
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _channel.Writer.TryWrite(new Item(index, null, ex));
        }
        finally
        {
            if (Interlocked.Decrement(ref _remaining) == 0) _channel.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await Task.WhenAll(_pumps).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _cts.Dispose();
    }
}

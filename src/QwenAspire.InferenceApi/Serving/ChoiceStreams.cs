using System.Threading.Channels;
using QwenAspire.Engine.Generation;

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

    public ChoiceStreams(IInferenceEngine engine, IReadOnlyList<GenerationRequest> requests, CancellationToken cancellationToken)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _remaining = requests.Count;
        _pumps = requests.Select((r, i) => Task.Run(() => PumpAsync(engine, r, i), CancellationToken.None)).ToArray();
    }

    /// <summary>
    /// Waits for the first event so that a refusal (full queue, a value the engine rejects — thrown before
    /// any token) can still be answered with a status code instead of a started stream.
    /// </summary>
    /// <exception cref="EngineOverloadedException">The engine queue is full.</exception>
    /// <exception cref="ArgumentException">The engine refused the request's values.</exception>
    public async Task WaitForFirstAsync(CancellationToken cancellationToken)
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

    private async Task PumpAsync(IInferenceEngine engine, GenerationRequest request, int index)
    {
        try
        {
            await foreach (var output in engine.GenerateAsync(request, _cts.Token).WithCancellation(_cts.Token))
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

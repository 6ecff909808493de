using System.Threading.Channels;
using QwenAspire.Engine.Sampling;
using QwenAspire.Engine.Sampling.LogitsProcessors;

namespace QwenAspire.Engine.Generation;

/// <summary>Everything the loop keeps for one request: the sequence, its sampler/stop state and its output channel.</summary>
internal sealed class ActiveSequence
{
    private readonly Channel<GenerationOutput> _output =
        Channel.CreateUnbounded<GenerationOutput>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private volatile bool _abortRequested;
    private volatile bool _completed;
    private int _holdsQueuePlace = 1;

    /// <param name="adapter">The adapter the request resolved at submission (null: slot 0, the base model or merged adapter).</param>
    public ActiveSequence(GenerationRequest request, AdapterEntry? adapter, CompletionTracker tracker, long submittedAt)
    {
        AdapterEntry = adapter;
        Sequence = new Sequence(request, adapter?.Slot ?? 0, adapter?.Id ?? 0);
        Tracker = tracker;
        Processors = LogitsPipeline.Create(request.Sampling, request.PromptTokens);
        Rng = request.Sampling.Seed is { } seed ? new Xoshiro256StarStar(seed) : Xoshiro256StarStar.CreateRandom();
        SubmittedAt = submittedAt;
    }

    public Sequence Sequence { get; }
    public GenerationRequest Request => Sequence.Request;
    public string? Adapter => Sequence.Adapter;
    /// <summary>Counted in at submission; released once, when the request ends (<see cref="Retired"/>).</summary>
    public AdapterEntry? AdapterEntry { get; }
    public bool Retired { get; set; }
    public CompletionTracker Tracker { get; }
    /// <summary>Penalties, logit_bias and the constraint state of this sequence, in order.</summary>
    public LogitsPipeline Processors { get; }
    public Xoshiro256StarStar Rng { get; }
    public long SubmittedAt { get; }
    /// <summary>Timestamp of the last emitted token (0 before the first).</summary>
    public long LastTokenAt { get; set; }
    /// <summary>Output completed (finished, failed or aborted); set by the loop only.</summary>
    public bool Completed => _completed;
    public CancellationTokenRegistration CancellationRegistration { get; set; }

    /// <summary>Set from any thread (client cancel or abandoned enumeration); the loop acts on it before the next step.</summary>
    public bool AbortRequested => _abortRequested;
    public void RequestAbort() => _abortRequested = true;

    /// <summary>
    /// True once, for whichever comes first: admission, retirement, or an abort while still queued. A request the
    /// client gave up on must not hold a queue place until the loop's next step (a disconnect storm would fill
    /// the queue with them and refuse live requests).
    /// </summary>
    public bool ReleaseQueuePlace() => Interlocked.Exchange(ref _holdsQueuePlace, 0) == 1;

    public ChannelReader<GenerationOutput> Reader => _output.Reader;

    public void Emit(GenerationOutput output) => _output.Writer.TryWrite(output);

    public void Complete(Exception? error = null)
    {
        if (_completed) return;
        _completed = true;
        _output.Writer.TryComplete(error);
    }
}

using System.Threading.Channels;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.Engine.Generation;

/// <summary>Everything the loop keeps for one request: the sequence, its sampler/stop state and its output channel.</summary>
internal sealed class ActiveSequence
{
    private readonly Channel<GenerationOutput> _output =
        Channel.CreateUnbounded<GenerationOutput>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private volatile bool _abortRequested;
    private volatile bool _completed;

    public ActiveSequence(GenerationRequest request, CompletionTracker tracker, long submittedAt)
    {
        Sequence = new Sequence(request);
        Tracker = tracker;
        Penalties = new PenaltyTracker(request.PromptTokens);
        Rng = request.Sampling.Seed is { } seed ? new Xoshiro256StarStar(seed) : Xoshiro256StarStar.CreateRandom();
        SubmittedAt = submittedAt;
    }

    public Sequence Sequence { get; }
    public GenerationRequest Request => Sequence.Request;
    public string? Adapter => Sequence.Adapter;
    public CompletionTracker Tracker { get; }
    public PenaltyTracker Penalties { get; }
    public Xoshiro256StarStar Rng { get; }
    public long SubmittedAt { get; }
    /// <summary>Timestamp of the last emitted token (0 before the first).</summary>
    public long LastTokenAt { get; set; }
    /// <summary>The runner has seen it, so it may hold KV cache that <see cref="IModelRunner.Release"/> must free.</summary>
    public bool Stepped { get; set; }
    /// <summary>Output completed (finished, failed or aborted); set by the loop only.</summary>
    public bool Completed => _completed;
    public CancellationTokenRegistration CancellationRegistration { get; set; }

    /// <summary>Set from any thread (client cancel or abandoned enumeration); the loop acts on it before the next step.</summary>
    public bool AbortRequested => _abortRequested;
    public void RequestAbort() => _abortRequested = true;

    public ChannelReader<GenerationOutput> Reader => _output.Reader;

    public void Emit(GenerationOutput output) => _output.Writer.TryWrite(output);

    public void Complete(Exception? error = null)
    {
        if (_completed) return;
        _completed = true;
        _output.Writer.TryComplete(error);
    }
}

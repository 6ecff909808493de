using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using QwenAspire.Engine.Diagnostics;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Sampling;
using QwenAspire.Text;

namespace QwenAspire.Engine.Generation;

/// <summary>
/// The engine: one dedicated thread owns the <see cref="IModelRunner"/> and runs
/// <c>schedule → build StepBatch → runner.Execute → postprocess → sample/stop → stream</c>, continuously
/// batching every running sequence (any adapter) into each step over the runner's paged KV pool. Requests
/// arrive through a bounded channel and each gets its own output channel, read by <see cref="GenerateAsync"/>;
/// adapter load/unload commands arrive through another and run between steps. The runner is not disposed
/// here (its owner disposes it after this engine).
/// </summary>
public sealed partial class InferenceEngine : IInferenceEngine, IEngineStatistics, IAsyncDisposable
{
    private readonly IModelRunner _runner;
    private readonly Func<SamplingParams, ITextDecoder> _decoderFactory;
    private readonly IReadOnlySet<int> _eosTokenIds;
    private readonly EngineOptions _options;
    private readonly InferenceMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly Channel<ActiveSequence> _incoming;
    private readonly Scheduler _scheduler;
    private readonly Sampler _sampler = new();
    private readonly Dictionary<long, ActiveSequence> _active = [];
    private readonly AdapterRegistry _adapters = new();
    /// <summary>Tokens one sequence may reach: the model's context, capped by what the whole KV pool holds.</summary>
    private readonly int _maxSequenceTokens;
    private float[] _row = [];
    private readonly CancellationTokenSource _shutdownDeadline = new();
    private readonly TaskCompletionSource _loopExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _loop;
    private int _queued;
    private volatile int _running;
    private volatile int _waiting;
    private long _preemptions;
    private int _disposed;

    /// <param name="runner">The model; only the engine thread calls it from now on.</param>
    /// <param name="decoderFactory">A fresh incremental detokenizer per request.</param>
    /// <param name="eosTokenIds">generation_config.json's eos_token_id(s) plus &lt;|im_end|&gt; (151645).</param>
    /// <param name="options">Null: defaults.</param>
    /// <param name="metrics">Null: no metrics recorded.</param>
    /// <param name="logger">Null: no logging.</param>
    public InferenceEngine(
        IModelRunner runner,
        Func<SamplingParams, ITextDecoder> decoderFactory,
        IReadOnlySet<int> eosTokenIds,
        EngineOptions? options = null,
        InferenceMetrics? metrics = null,
        ILogger<InferenceEngine>? logger = null)
    {
        _runner = runner ?? throw new ArgumentNullException(nameof(runner));
        _decoderFactory = decoderFactory ?? throw new ArgumentNullException(nameof(decoderFactory));
        _eosTokenIds = eosTokenIds ?? throw new ArgumentNullException(nameof(eosTokenIds));
        _options = options ?? new EngineOptions();
        _options.Validate();
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        if (runner.KvBlockSize <= 0 || runner.KvBlockCount <= 0)
            throw new ArgumentException($"The model runner reports a KV pool of {runner.KvBlockCount} blocks of {runner.KvBlockSize} tokens; the engine needs at least one block.", nameof(runner));
        _scheduler = new Scheduler(_options, runner.KvBlockSize, runner.KvBlockCount);
        _maxSequenceTokens = (int)Math.Min(runner.MaxContextLength, (long)_scheduler.CapacityTokens);
        foreach (var adapter in runner.Adapters) _adapters.Add(adapter.Name, adapter.Slot);
        _logger.LogInformation(
            "Engine: {Blocks} KV blocks of {BlockSize} tokens ({Tokens} tokens), {MaxRunning} sequences and {Budget} tokens per step, prefix caching {PrefixCaching}",
            runner.KvBlockCount, runner.KvBlockSize, _scheduler.CapacityTokens, _options.MaxRunningSequences, _options.MaxBatchedTokens,
            _options.PrefixCaching ? "on" : "off");
        // Unbounded: _queued is the bound (aborted requests give their place back before the loop drains them).
        _incoming = Channel.CreateUnbounded<ActiveSequence>(new UnboundedChannelOptions { SingleReader = true });
        _metrics?.Observe(this);
        _loop = new Thread(RunLoop) { IsBackground = true, Name = "QwenAspire engine loop" };
        _loop.Start();
    }

    public int QueueDepth => Math.Max(0, Volatile.Read(ref _queued));
    public int RunningCount => _running;
    public int WaitingSequences => _waiting;
    public int KvBlocksUsed => _scheduler.Blocks.UsedBlocks;
    public int KvBlocksFree => _scheduler.Blocks.FreeBlocks;
    public long PrefixCacheQueriedTokens => _scheduler.Blocks.QueriedTokens;
    public long PrefixCacheHitTokens => _scheduler.Blocks.HitTokens;
    public long Preemptions => Interlocked.Read(ref _preemptions);

    /// <summary>
    /// Validates and queues <paramref name="request"/> synchronously, then streams its events.
    /// </summary>
    /// <exception cref="EngineOverloadedException">The queue holds <see cref="EngineOptions.MaxQueueLength"/> requests.</exception>
    /// <exception cref="ContextLengthExceededException">The prompt leaves no room to generate.</exception>
    /// <exception cref="ArgumentException">Empty prompt, token id out of range, unknown adapter, or a sampling value out of range (ParamName names it).</exception>
    /// <exception cref="ObjectDisposedException">The engine is shutting down.</exception>
    public IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Validate(request);
        cancellationToken.ThrowIfCancellationRequested();

        if (Interlocked.Increment(ref _queued) > _options.MaxQueueLength)
        {
            Interlocked.Decrement(ref _queued);
            throw new EngineOverloadedException(_options.OverloadRetryAfter);
        }
        ActiveSequence active;
        AdapterEntry? adapter = null;
        try
        {
            // Resolved and counted in under the registry's lock: an unload from now on waits for this request.
            if (request.Adapter is { } name) adapter = _adapters.Acquire(name);
            var tracker = new CompletionTracker(request.Sampling, _eosTokenIds, _decoderFactory(request.Sampling), _maxSequenceTokens);
            active = new ActiveSequence(request, adapter, tracker, Stopwatch.GetTimestamp());
        }
        catch
        {
            if (adapter is not null) _adapters.Release(adapter);
            Interlocked.Decrement(ref _queued);
            throw;
        }
        if (!_incoming.Writer.TryWrite(active))
        {
            if (adapter is not null) _adapters.Release(adapter);
            Interlocked.Decrement(ref _queued);
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            throw new EngineOverloadedException(_options.OverloadRetryAfter);
        }
        active.CancellationRegistration = cancellationToken.Register(s => RequestAbort((ActiveSequence)s!), active);
        return ReadOutputAsync(active, cancellationToken);
    }

    /// <summary>From any thread: the loop drops the request before its next step; a queued one frees its place now.</summary>
    private void RequestAbort(ActiveSequence active)
    {
        active.RequestAbort();
        ReleaseQueuePlace(active);
    }

    private void ReleaseQueuePlace(ActiveSequence active)
    {
        if (active.ReleaseQueuePlace()) Interlocked.Decrement(ref _queued);
    }

    private async IAsyncEnumerable<GenerationOutput> ReadOutputAsync(
        ActiveSequence active, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var output in active.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // ReadAllAsync only looks at the token when it has to wait: events already buffered would keep
                // flowing to a caller that has cancelled.
                cancellationToken.ThrowIfCancellationRequested();
                yield return output;
            }
        }
        finally
        {
            // Cancelled, abandoned (break/dispose) or done: in the first two cases the loop drops it before its next step.
            RequestAbort(active);
            await active.CancellationRegistration.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Validate(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request.PromptTokens, "PromptTokens");
        ArgumentNullException.ThrowIfNull(request.Sampling, "Sampling");
        var prompt = request.PromptTokens;
        if (prompt.Count == 0) throw new ArgumentException("The prompt has no tokens.", "PromptTokens");
        if (prompt.Count >= _runner.MaxContextLength) throw new ContextLengthExceededException(prompt.Count, _runner.MaxContextLength);
        if (prompt.Count >= _maxSequenceTokens)
            throw new ContextLengthExceededException(prompt.Count, _maxSequenceTokens,
                $"The prompt has {prompt.Count} tokens but the KV cache holds {_maxSequenceTokens} tokens in all " +
                $"({_scheduler.Blocks.BlockCount} blocks of {_scheduler.Blocks.BlockSize}); no room to generate.");
        for (var i = 0; i < prompt.Count; i++)
        {
            if ((uint)prompt[i] >= (uint)_runner.VocabSize)
                throw new ArgumentOutOfRangeException("PromptTokens", prompt[i], $"Prompt token {i} is outside the vocabulary (0..{_runner.VocabSize - 1}).");
        }
        if (request.Adapter is { } adapter) _adapters.EnsureKnown(adapter); // before the queue check: unknown is a 404, not a 429
        else if (!_runner.ServesBaseModel)
            throw new ArgumentException(
                $"The base model is not served (an adapter is merged into the weights); use one of: [{string.Join(", ", _adapters.Names)}].", "Adapter");
        SamplingParamsValidation.Validate(request.Sampling, _options.MaxLogprobs, _runner.VocabSize);
    }

    /// <summary>Stops taking requests, lets running ones finish within <see cref="EngineOptions.ShutdownTimeout"/>, then aborts the rest.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _loopExited.Task.ConfigureAwait(false);
            return;
        }
        _incoming.Writer.TryComplete();
        _commands.Writer.TryComplete();
        _shutdownDeadline.CancelAfter(_options.ShutdownTimeout);
        await _loopExited.Task.ConfigureAwait(false);
        _shutdownDeadline.Dispose();
    }
}

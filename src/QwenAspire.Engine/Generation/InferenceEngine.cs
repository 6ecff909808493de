using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using QwenAspire.Engine.Diagnostics;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.Engine.Generation;

/// <summary>
/// The engine: one dedicated thread owns the <see cref="IModelRunner"/> and runs
/// <c>schedule → runner.Step → sample/stop → stream</c>. Requests arrive through a bounded channel and
/// each gets its own output channel, read by <see cref="GenerateAsync"/>. The runner is not disposed here
/// (its owner disposes it after this engine).
/// </summary>
public sealed partial class InferenceEngine : IInferenceEngine, IAsyncDisposable
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
    private readonly CancellationTokenSource _shutdownDeadline = new();
    private readonly TaskCompletionSource _loopExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _loop;
    private int _queued;
    private volatile int _running;
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
        _scheduler = new Scheduler(_options);
        _incoming = Channel.CreateBounded<ActiveSequence>(new BoundedChannelOptions(_options.MaxQueueLength)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _metrics?.Observe(this, runner as IKvCacheStatistics);
        _loop = new Thread(RunLoop) { IsBackground = true, Name = "QwenAspire engine loop" };
        _loop.Start();
    }

    public int QueueDepth => Math.Max(0, Volatile.Read(ref _queued));
    public int RunningCount => _running;
    // TEMP-SHIM: the engine branch implements these; here only so the kernels branch compiles.
    public IReadOnlyCollection<string> AdapterNames => throw new NotSupportedException("engine branch pending");
    public Task LoadAdapterAsync(string name, string folder, CancellationToken cancellationToken) => throw new NotSupportedException("engine branch pending");
    public Task UnloadAdapterAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException("engine branch pending");

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
        try
        {
            var tracker = new CompletionTracker(request.Sampling, _eosTokenIds, _decoderFactory(request.Sampling), _runner.MaxContextLength);
            active = new ActiveSequence(request, tracker, Stopwatch.GetTimestamp());
        }
        catch
        {
            Interlocked.Decrement(ref _queued);
            throw;
        }
        if (!_incoming.Writer.TryWrite(active))
        {
            Interlocked.Decrement(ref _queued);
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            throw new EngineOverloadedException(_options.OverloadRetryAfter);
        }
        active.CancellationRegistration = cancellationToken.Register(static s => ((ActiveSequence)s!).RequestAbort(), active);
        return ReadOutputAsync(active, cancellationToken);
    }

    private static async IAsyncEnumerable<GenerationOutput> ReadOutputAsync(
        ActiveSequence active, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var output in active.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return output;
        }
        finally
        {
            // Cancelled, abandoned (break/dispose) or done: in the first two cases the loop drops it before its next step.
            active.RequestAbort();
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
        for (var i = 0; i < prompt.Count; i++)
        {
            if ((uint)prompt[i] >= (uint)_runner.VocabSize)
                throw new ArgumentOutOfRangeException("PromptTokens", prompt[i], $"Prompt token {i} is outside the vocabulary (0..{_runner.VocabSize - 1}).");
        }
        if (request.Adapter is { } adapter && !_runner.Adapters.Any(a => a.Name == adapter))
            throw new ArgumentException($"Unknown adapter '{adapter}'; loaded: {string.Join(", ", _runner.Adapters)}.", "Adapter");
        SamplingParamsValidation.Validate(request.Sampling, _options.MaxLogprobs);
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
        _shutdownDeadline.CancelAfter(_options.ShutdownTimeout);
        await _loopExited.Task.ConfigureAwait(false);
        _shutdownDeadline.Dispose();
    }
}

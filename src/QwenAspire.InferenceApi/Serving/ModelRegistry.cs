using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// The registry of served models: which model set is loaded (if any yet) and how a request's <c>model</c>
/// resolves to the base model or an adapter. HTTP is up before the model is loaded; until <see cref="SetReady"/>
/// every model endpoint answers 503 and <c>/health</c> is unhealthy. The loader (Hosting) fills it; serving and
/// the endpoints only read it.
/// </summary>
public sealed class ModelRegistry
{
    private volatile ServedModels? _models;
    private volatile string _status = "starting";
    private volatile bool _shuttingDown;
    private readonly Lock _drainGate = new();
    private Task? _drain;

    /// <summary>Loaded and not shutting down: <c>/health</c> turns 503 on SIGTERM so balancers stop sending.</summary>
    public bool IsReady => _models is not null && !_shuttingDown;
    public bool ShuttingDown => _shuttingDown;
    public string Status => _status;

    /// <summary>Share of the checkpoint read so far (0–1) while loading weights; null before and after.</summary>
    public double? LoadFraction => Volatile.Read(ref _loadFraction) is var f && f >= 0 ? f : null;
    private double _loadFraction = -1;

    public void ReportProgress(string status, double? loadFraction = null)
    {
        Volatile.Write(ref _loadFraction, loadFraction ?? -1);
        _status = status;
    }

    public void SetReady(ServedModels models)
    {
        _models = models;
        Volatile.Write(ref _loadFraction, -1);
        _status = "ready";
        if (_shuttingDown) BeginShutdown(); // loaded while the host was already stopping
    }

    /// <summary>
    /// New requests get 503 from now on; the engine stops admitting and drains (its own shutdown timeout).
    /// Its owner still awaits the same disposal before freeing the model.
    /// </summary>
    public void BeginShutdown()
    {
        _shuttingDown = true;
        _status = "shutting down";
        if (_models?.Engine is IAsyncDisposable engine)
            lock (_drainGate) _drain ??= engine.DisposeAsync().AsTask();
    }

    public void SetFailed(string reason) => _status = "failed: " + reason;

    /// <summary>The served models, or the 503 to answer while they are not loaded.</summary>
    public bool TryGetModels(out ServedModels models, out ApiError? notReady)
    {
        models = _models!;
        notReady = _shuttingDown ? ApiError.ShuttingDown()
            : models is null ? ApiError.NotReady($"Status: {_status}.") : null;
        return notReady is null;
    }

    /// <summary>
    /// Resolves a request's <c>model</c>: the served set and the adapter to run (null: the base model), or the
    /// 503 (not loaded, shutting down) or 404 (unknown name) to answer.
    /// </summary>
    public ApiError? Resolve(string model, out ServedModels models, out string? adapter)
    {
        adapter = null;
        if (!TryGetModels(out models, out var notReady)) return notReady;
        return models.TryResolve(model, out adapter) ? null : ApiError.ModelNotFound(model, models.Names);
    }
}

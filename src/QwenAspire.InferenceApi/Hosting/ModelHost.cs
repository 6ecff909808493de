using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Hosting;

/// <summary>
/// Readiness of the served models. HTTP is up before the model is loaded; until <see cref="SetReady"/> every
/// model endpoint answers 503 and <c>/health</c> is unhealthy.
/// </summary>
public sealed class ModelHost
{
    private volatile ServedModels? _models;
    private volatile string _status = "starting";

    public bool IsReady => _models is not null;
    public string Status => _status;

    public void ReportProgress(string status) => _status = status;

    public void SetReady(ServedModels models)
    {
        _models = models;
        _status = "ready";
    }

    public void SetFailed(string reason) => _status = "failed: " + reason;

    /// <summary>The served models, or the 503 to answer while they are not loaded.</summary>
    public bool TryGetModels(out ServedModels models, out ApiError? notReady)
    {
        models = _models!;
        notReady = models is null ? ApiError.NotReady($"Status: {_status}.") : null;
        return models is not null;
    }
}

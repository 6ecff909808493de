using Microsoft.Extensions.Diagnostics.HealthChecks;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Hosting;

/// <summary>/health is 503 while the model loads (or failed to), 200 once it serves.</summary>
public sealed class ModelReadyHealthCheck(ModelRegistry host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.IsReady
            ? HealthCheckResult.Healthy("Model loaded.")
            : HealthCheckResult.Unhealthy($"Model not ready ({host.Status})."));
}

using Microsoft.Extensions.Options;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Hosting;

/// <summary>
/// SIGTERM (host StopAsync) drains instead of resetting: the moment the host starts stopping (before Kestrel
/// waits for open requests) new model requests get 503 and the engine stops admitting and gives running
/// requests <c>server.shutdown_timeout</c>, after which it ends them with <see cref="FinishReason.Abort"/>, so
/// every stream still gets its finish chunk and [DONE] before Kestrel's own deadline (set a little later).
/// </summary>
public sealed class GracefulShutdown(IHostApplicationLifetime lifetime, ModelRegistry host) : IHostedService
{
    /// <summary>Host deadline beyond the engine's: time to write the abort events and close the responses.</summary>
    public static readonly TimeSpan HostGrace = TimeSpan.FromSeconds(5);

    private CancellationTokenRegistration _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(static h => ((ModelRegistry)h!).BeginShutdown(), host);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await _stopping.DisposeAsync();

    public static IServiceCollection AddGracefulShutdown(IServiceCollection services)
    {
        services.AddHostedService<GracefulShutdown>();
        services.AddOptions<HostOptions>().Configure<IOptions<ServerOptions>>((h, server) =>
            h.ShutdownTimeout = TimeSpan.FromSeconds(server.Value.ShutdownTimeoutSeconds) + HostGrace);
        // server.shutdown_timeout is the one key users set; the engine drains on the same clock.
        services.AddOptions<EngineOptions>().PostConfigure<IOptions<ServerOptions>>((e, server) =>
            e.ShutdownTimeout = TimeSpan.FromSeconds(server.Value.ShutdownTimeoutSeconds));
        return services;
    }
}

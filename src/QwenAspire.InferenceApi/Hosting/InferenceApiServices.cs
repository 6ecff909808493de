using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using QwenAspire.Engine.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Hosting;

public static class InferenceApiServices
{
    /// <summary>Options, protocol, serving and model hosting of the inference API.</summary>
    public static WebApplicationBuilder AddInferenceApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // "Hosting failed to start" comes with the whole trace; StartupGuard reports those failures in one line
        // (and prints the trace itself when the failure is unexpected).
        builder.Logging.AddFilter(StartupGuard.HostLogCategory, LogLevel.Critical);
        services.AddServiceOptions();
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelEndpointSetup>();
        services.AddInferenceApiProtocol();
        services.AddSingleton<IConfigureOptions<EngineOptions>, EngineOptionsSetup>();
        services.AddSingleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>();
        services.AddOptions<EngineOptions>().ValidateOnStart();
        services.AddSingleton(sp => new InferenceMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService<ModelLoadingService>();
        GracefulShutdown.AddGracefulShutdown(services);
        services.AddSingleton<PromptRenderer>();
        services.AddSingleton<ServingPipeline>();
        services.AddSingleton<ChatServing>();
        services.AddSingleton<CompletionServing>();
        services.AddSingleton<ResponsesServing>();
        services.AddSingleton<RuntimeLoraServing>();
        services.AddHealthChecks().AddCheck<ModelReadyHealthCheck>("model");
        // OpenTelemetry (the QwenAspire.Inference meter, the GenAI spans, /metrics) is registered once, by
        // AddServiceDefaults; the API only lets its own keys open a protected scrape endpoint.
        services.AddSingleton<IScrapeKeyValidator>(sp => sp.GetRequiredService<ApiKeyStore>());
        return builder;
    }
}

using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using QwenAspire.Engine.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Diagnostics;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Hosting;

public static class InferenceApiServices
{
    /// <summary>Options, protocol, serving and model hosting of the inference API.</summary>
    public static WebApplicationBuilder AddInferenceApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddServiceOptions();
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelEndpointSetup>();
        services.AddInferenceApiProtocol();
        services.AddSingleton<IConfigureOptions<EngineOptions>, EngineOptionsSetup>();
        services.AddSingleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>();
        services.AddOptions<EngineOptions>().ValidateOnStart();
        services.AddSingleton(sp => new InferenceMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<ModelHost>();
        services.AddHostedService<ModelLoadingService>();
        services.AddSingleton<ChatServing>();
        services.AddSingleton<CompletionServing>();
        services.AddHealthChecks().AddCheck<ModelReadyHealthCheck>("model");
        services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource(InferenceApiTelemetry.SourceName))
            .WithMetrics(m => m.AddMeter(InferenceMetrics.MeterName));
        return builder;
    }
}

using Microsoft.Extensions.Options;

namespace QwenAspire.InferenceApi.Options;

public static class OptionsExtensions
{
    /// <summary>Binds every section of service_config.yaml and validates it when the host starts.</summary>
    public static IServiceCollection AddServiceOptions(this IServiceCollection services)
    {
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateOnStart();
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section).ValidateOnStart();
        services.AddOptions<GenerationDefaultsOptions>().BindConfiguration(GenerationDefaultsOptions.Section).ValidateOnStart();
        services.AddOptions<EngineDeviceOptions>().BindConfiguration(EngineDeviceOptions.Section).ValidateOnStart();
        services.AddOptions<RuntimeLoraOptions>().BindConfiguration(RuntimeLoraOptions.Section).ValidateOnStart();
        services.AddOptions<DifyOptions>().BindConfiguration(DifyOptions.Section);
        services.AddSingleton<IPostConfigureOptions<ModelOptions>, ModelAdapterSections>();
        services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();
        services.AddSingleton<IValidateOptions<GenerationDefaultsOptions>, GenerationDefaultsValidator>();
        services.AddSingleton<IValidateOptions<EngineDeviceOptions>, EngineDeviceOptionsValidator>();
        services.AddSingleton<IValidateOptions<RuntimeLoraOptions>, RuntimeLoraOptionsValidator>();
        return services;
    }
}

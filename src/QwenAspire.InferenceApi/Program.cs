using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Options;

return await StartupGuard.RunAsync(() => Program.CreateApp(args).RunAsync());

public partial class Program
{
    /// <summary>The whole service, in order. Functional tests start the same app on a loopback port.</summary>
    /// <param name="configureServices">Lets a host swap or add services after the defaults (tests).</param>
    public static WebApplication CreateApp(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var commandLine = ServiceCommandLine.Parse(args);   // --model, --lora NAME=DIR, --api-key, --port, …
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. commandLine.RemainingArgs] });
        builder.AddServiceConfiguration(commandLine);       // command line > environment > service_config.yaml > defaults
        builder.AddServiceDefaults();                       // OpenTelemetry, /health, /alive
        builder.AddInferenceApi();                          // options, auth, protocol, serving, model loading
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.UsePlayground();                                // GET / and /playground: the static chat page (no key)
        app.UseInferenceApiPipeline();                      // exception barrier, OpenAI 404/405, API keys
        app.MapDefaultEndpoints();                          // /health (503 while the model loads), /alive
        app.MapInferenceApi();                              // the route table
        app.MapModelStatus();                               // /health/model: loading state and progress (public)
        return app;
    }
}

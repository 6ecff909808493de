using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Options;

namespace QwenAspire.FunctionalTests;

public sealed class ConfigurationTests
{
    private static string WriteYaml(string text)
    {
        string path = Path.Combine(Path.GetTempPath(), $"qwenaspire-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task YamlIsReadAndCommandLineWinsOverIt()
    {
        string yaml = WriteYaml("""
            model:
              served_model_name: from-yaml
              dtype: float32
            generation:
              max_tokens: 77
              enable_thinking: false
            dify:
              api_key: sk-dify-from-yaml
            """);
        await using var app = Program.CreateApp(["--config", yaml, "--dtype", "bfloat16"]);
        var model = app.Services.GetRequiredService<IOptions<ModelOptions>>().Value;
        var generation = app.Services.GetRequiredService<IOptions<GenerationDefaultsOptions>>().Value;
        Assert.Equal("from-yaml", model.ServedModelName);
        Assert.Equal("bfloat16", model.Dtype);
        Assert.Equal(77, generation.MaxTokens);
        Assert.False(generation.EnableThinking);
        Assert.Equal("sk-dify-from-yaml", app.Services.GetRequiredService<IOptions<DifyOptions>>().Value.ApiKey);
    }

    [Fact]
    public async Task EnvironmentOverridesYamlButNotCommandLine()
    {
        string yaml = WriteYaml("engine:\n  device: cpu\n  threads: 1\n");
        Environment.SetEnvironmentVariable("ENGINE__THREADS", "3");
        Environment.SetEnvironmentVariable("ENGINE__DEVICE", "cuda");
        try
        {
            await using var app = Program.CreateApp(["--config", yaml, "--device", "auto"]);
            var engine = app.Services.GetRequiredService<IOptions<EngineDeviceOptions>>().Value;
            Assert.Equal(3, engine.Threads);
            Assert.Equal("auto", engine.Device);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ENGINE__THREADS", null);
            Environment.SetEnvironmentVariable("ENGINE__DEVICE", null);
        }
    }

    [Theory]
    [InlineData("server:\n  port: 70000\n", "server.port")]
    [InlineData("model:\n  dtype: int3\n", "model.dtype")]
    [InlineData("generation:\n  top_p: 1.5\n", "generation.top_p")]
    [InlineData("model:\n  path: /definitely/not/here\n", "model.path")]
    [InlineData("engine:\n  device: tpu\n", "engine.device")]
    [InlineData("engine:\n  threads: -2\n", "engine.threads")]
    [InlineData("engine:\n  kv_cache_memory: lots\n", "engine.kv_cache_memory")]
    [InlineData("engine:\n  kv_cache_memory: 1.5\n", "engine.kv_cache_memory")]
    [InlineData("engine:\n  kv_block_size: 0\n", "engine.kv_block_size")]
    [InlineData("engine:\n  kv_cache_dtype: int3\n", "engine.kv_cache_dtype")]
    [InlineData("model:\n  device: cuda\n", "moved to engine.device")]
    [InlineData("server:\n  port: eighty\n", "server:port")]
    public async Task InvalidValueStopsStartWithMessageNamingTheKey(string yamlText, string key)
    {
        string yaml = WriteYaml(yamlText);
        // Kestrel reads server.* while the app is built, the rest is validated on start: the guard covers both.
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = Program.CreateApp(["--config", yaml, "--host", "127.0.0.1"]);
            await app.StartAsync();
            await app.StopAsync();
        });
        string? message = StartupGuard.Describe(ex);
        Assert.NotNull(message);
        Assert.Contains(key, message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void MissingExplicitConfigFileIsNamed()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => Program.CreateApp(["--config", "/no/such/service_config.yaml"]));
        Assert.Contains("/no/such/service_config.yaml", ex.Message);
    }

    [Fact]
    public async Task TheShippedServiceConfigIsValid()
    {
        string shipped = Path.Combine(AppContext.BaseDirectory, "service_config.yaml");
        await using var app = Program.CreateApp(["--config", shipped, "--host", "127.0.0.1", "--port", "0"]);
        var model = app.Services.GetRequiredService<IOptions<ModelOptions>>().Value;
        Assert.Empty(model.Adapters);
        Assert.Equal("auto", app.Services.GetRequiredService<IOptions<EngineDeviceOptions>>().Value.Device);
        Assert.Equal(1024, app.Services.GetRequiredService<IOptions<GenerationDefaultsOptions>>().Value.MaxTokens);
        foreach (var validate in new Action[]
                 {
                     () => _ = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value,
                     () => _ = app.Services.GetRequiredService<IOptions<GenerationDefaultsOptions>>().Value,
                     () => _ = app.Services.GetRequiredService<IOptions<EngineDeviceOptions>>().Value,
                 })
            validate();
    }
}

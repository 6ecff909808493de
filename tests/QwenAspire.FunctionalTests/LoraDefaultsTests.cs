using System.Net;
using Microsoft.Extensions.Options;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Options;

namespace QwenAspire.FunctionalTests;

/// <summary>Runtime adapters are off unless switched on; their options fail start-up naming the key.</summary>
[Collection(ModelCollection.Name)]
public sealed class LoraDefaultsTests(ModelServer server)
{
    [Fact]
    public async Task TheRoutesAnswer403UntilAllowRuntimeLoraIsSet()
    {
        using var client = server.App.Client();
        foreach (var response in new[]
                 {
                     await LoraServers.LoadAsync(client, "x", "/etc"),
                     await LoraServers.UnloadAsync(client, ModelServer.Model),
                     await client.PostAsync("/v1/load_lora_adapter", ModelServer.Json("{not json")),
                 })
        {
            var error = await ErrorEnvelope.ReadAsync(response);
            Assert.Equal((HttpStatusCode.Forbidden, "runtime_lora_disabled"), (error.Status, error.Code));
            Assert.Contains("engine.allow_runtime_lora", error.Message);
        }
        Assert.Equal([ModelServer.Model], await LoraServers.ModelIdsAsync(client));
    }

    [Fact]
    public async Task TheShippedConfigKeepsThemOffAndLeavesASingleAdapterUnmerged()
    {
        string shipped = Path.Combine(AppContext.BaseDirectory, "service_config.yaml");
        await using var app = Program.CreateApp(["--config", shipped, "--host", "127.0.0.1", "--port", "0"]);
        var lora = app.Services.GetRequiredService<IOptions<RuntimeLoraOptions>>().Value;
        Assert.False(lora.AllowRuntimeLora);
        Assert.Empty(lora.LoraRoots);
        Assert.False(app.Services.GetRequiredService<IOptions<ModelOptions>>().Value.MergeSingleAdapter);
    }

    public static TheoryData<string, string> InvalidOptions()
    {
        string a = Directory.CreateTempSubdirectory("qwenaspire-lora-a").FullName;
        string b = Directory.CreateTempSubdirectory("qwenaspire-lora-b").FullName;
        return new()
        {
            { "engine:\n  allow_runtime_lora: true\n", "engine.lora_roots" },
            { "engine:\n  lora_roots: [/definitely/not/here]\n", "engine.lora_roots[0]" },
            { "engine:\n  allow_runtime_lora: maybe\n", "engine:allow_runtime_lora" },
            { "model:\n  merge_single_adapter: perhaps\n", "model:merge_single_adapter" },
            { $"model:\n  merge_single_adapter: true\n  adapters:\n    a: {a}\n    b: {b}\n", "model.merge_single_adapter" },
            { $"model:\n  merge_single_adapter: true\n  adapters:\n    a: {a}\nengine:\n  allow_runtime_lora: true\n  lora_roots: [{b}]\n", "engine.allow_runtime_lora" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task AnInvalidOptionStopsStartNamingTheKey(string yamlText, string key)
    {
        string yaml = Path.Combine(Path.GetTempPath(), $"qwenaspire-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(yaml, yamlText);
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = Program.CreateApp(["--config", yaml, "--host", "127.0.0.1", "--port", "0"]);
            await app.StartAsync();
            await app.StopAsync();
        });
        string? message = StartupGuard.Describe(ex);
        Assert.NotNull(message);
        Assert.Contains(key, message, StringComparison.Ordinal);
    }
}

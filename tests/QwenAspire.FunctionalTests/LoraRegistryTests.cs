using System.Net;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Serving;
using QwenAspire.Text.Templating;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// The served model set follows the engine's adapter names as they change, and an adapter the engine no longer
/// has when the request reaches it (unloaded between resolution and admission) is the same 404 as an unknown name.
/// </summary>
public sealed class LoraRegistryTests
{
    [Fact]
    public async Task ModelsFollowTheEngineAndAnAdapterGoneAtAdmissionIs404ListingTheServedModels()
    {
        var engine = new VanishingAdapterEngine();
        await using var app = await TestApp.StartAsync(services => services.AddSingleton(new ModelLoadGate()));
        app.App.Services.GetRequiredService<ModelRegistry>().SetReady(new ServedModels
        {
            BaseName = "scripted", Engine = engine, MaxContextLength = 4096, VocabSize = 151936,
            Prompt = new Qwen3PromptProcessor(Qwen3Tokenizer.LoadEmbedded(), ChatTemplate.FromEmbeddedQwen3()),
        });
        using var client = app.Client();
        Assert.Equal(["scripted", "ghost", "other"], await LoraServers.ModelIdsAsync(client));
        engine.Names = ["other"];
        Assert.Equal(["scripted", "other"], await LoraServers.ModelIdsAsync(client));
        engine.Names = ["ghost", "other"];

        // "ghost" resolves (still listed) but the engine has already let it go when the request arrives.
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(new
        {
            model = "ghost", messages = new[] { new { role = "user", content = "hi" } },
        }));
        var error = await ErrorEnvelope.ReadAsync(response);
        Assert.Equal((HttpStatusCode.NotFound, "model_not_found", "model"), (error.Status, error.Code, error.Param));
        Assert.Contains("'ghost'", error.Message);
        Assert.Contains("scripted, other", error.Message);
    }

    /// <summary>Lists what the test sets; a request for "ghost" is refused as the engine refuses an unloaded adapter.</summary>
    private sealed class VanishingAdapterEngine : IInferenceEngine
    {
        public volatile string[] Names = ["ghost", "other"];

        public int QueueDepth => 0;
        public int RunningCount => 0;
        public IReadOnlyCollection<string> AdapterNames => Names;

        public IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
        {
            Names = [.. Names.Where(n => n != request.Adapter)];
            throw new ArgumentException($"Unknown adapter '{request.Adapter}'; loaded: [{string.Join(", ", Names)}].", "Adapter");
        }

        public Task LoadAdapterAsync(string name, string folder, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task UnloadAdapterAsync(string name, CancellationToken cancellationToken) => throw new KeyNotFoundException(name);
    }
}

using System.Net;
using System.Runtime.CompilerServices;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Serving;
using QwenAspire.Text.Templating;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// A runtime adapter load or unload caught by SIGTERM (queued on the engine when it closes, or waited on when the
/// stopping token fires) answers 503 <c>server_shutting_down</c> like every other route, not 500. The engine here
/// holds each command until the drain starts, then ends it as the real one does: a load the closing engine
/// refuses (ObjectDisposedException), an unload whose wait is cancelled.
/// </summary>
public sealed class LoraShutdownTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("qwenaspire-lora-shutdown-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task LoadAndUnloadCaughtByTheDrainAre503ServerShuttingDown()
    {
        Directory.CreateDirectory(Path.Combine(_root, "adapter"));
        var engine = new HeldCommandsEngine();
        await using var app = await TestApp.StartAsync(services => services.AddSingleton(new ModelLoadGate()),
            "--Engine:allow_runtime_lora=true", "--Engine:lora_roots:0=" + _root);
        var host = app.App.Services.GetRequiredService<ModelRegistry>();
        host.SetReady(new ServedModels
        {
            BaseName = "scripted", Engine = engine, Prompt = new Qwen3PromptProcessor(Qwen3Tokenizer.LoadEmbedded(), ChatTemplate.FromEmbeddedQwen3()),
            MaxContextLength = 4096, VocabSize = 151936,
        });
        using var client = app.Client();
        var load = client.PostAsync("/v1/load_lora_adapter", ModelServer.Json(new { lora_name = "late", lora_path = "adapter" }));
        var unload = client.PostAsync("/v1/unload_lora_adapter", ModelServer.Json(new { lora_name = "held" }));
        await engine.BothQueued.Task.WaitAsync(TimeSpan.FromSeconds(30));

        host.BeginShutdown(); // what SIGTERM does first (GracefulShutdown): the engine starts draining

        foreach (var response in new[] { await load, await unload })
        {
            var error = await ErrorEnvelope.ReadAsync(response);
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "server_shutting_down"), (error.Status, error.Code));
            Assert.NotNull(response.Headers.RetryAfter);
        }
        // Sent after the drain began: refused before reaching the engine.
        var after = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/load_lora_adapter", ModelServer.Json(new { lora_name = "x", lora_path = "adapter" })));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "server_shutting_down"), (after.Status, after.Code));
        Assert.Equal(1, engine.Loads);
    }

    private sealed class HeldCommandsEngine : IInferenceEngine, IAsyncDisposable
    {
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _queued;

        public TaskCompletionSource BothQueued { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Loads { get; private set; }
        public int QueueDepth => 0;
        public int RunningCount => 0;
        public IReadOnlyCollection<string> AdapterNames => ["held"];

        public async IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new NotSupportedException("no generation here");
#pragma warning disable CS0162 // an async iterator needs a yield
            yield break;
#pragma warning restore CS0162
        }

        public async Task LoadAdapterAsync(string name, string folder, CancellationToken cancellationToken)
        {
            Loads++;
            Queued();
            await _closed.Task;
            throw new ObjectDisposedException(nameof(InferenceEngine)); // ShutDownAdapterCommands refuses what is still queued
        }

        public async Task UnloadAdapterAsync(string name, CancellationToken cancellationToken)
        {
            Queued();
            await _closed.Task;
            throw new TaskCanceledException(); // Done.Task.WaitAsync(stopping) gives up
        }

        public ValueTask DisposeAsync()
        {
            _closed.TrySetResult();
            return ValueTask.CompletedTask;
        }

        private void Queued()
        {
            if (Interlocked.Increment(ref _queued) == 2) BothQueued.TrySetResult();
        }
    }
}

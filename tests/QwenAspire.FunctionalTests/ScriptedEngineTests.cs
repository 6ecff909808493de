using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Serving;
using QwenAspire.Text.Templating;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// Serving paths a real model cannot be made to take on demand (a choice refused after another started, a failure
/// mid-generation, a client leaving a non-streaming request), driven by a scripted engine behind the real HTTP stack.
/// </summary>
public sealed class ScriptedEngineTests
{
    private static readonly Qwen3PromptProcessor s_prompt = new(Qwen3Tokenizer.LoadEmbedded(), ChatTemplate.FromEmbeddedQwen3());

    private static async Task<TestApp> StartAsync(IInferenceEngine engine)
    {
        // The gate is never opened: the real model never loads, the scripted engine serves instead.
        var app = await TestApp.StartAsync(services => services.AddSingleton(new ModelLoadGate()));
        app.App.Services.GetRequiredService<ModelRegistry>().SetReady(new ServedModels
        {
            BaseName = "scripted", Engine = engine, Prompt = s_prompt, MaxContextLength = 4096, VocabSize = 151936,
        });
        return app;
    }

    private static StringContent Chat(bool stream, int n = 1) => ModelServer.Json(new
    {
        model = "scripted", stream, n, messages = new[] { new { role = "user", content = "hi" } },
    });

    [Fact]
    public async Task ChoiceRefusedAfterAnotherStartedIs429NotA500()
    {
        await using var app = await StartAsync(new RefusesSecondChoiceEngine());
        using var client = app.Client();
        var response = await client.PostAsync("/v1/chat/completions", Chat(stream: false, n: 2));
        var error = await ErrorEnvelope.ReadAsync(response);
        Assert.Equal((HttpStatusCode.TooManyRequests, "queue_full"), (error.Status, error.Code));
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task FailureMidStreamIsAnErrorEventThenDoneWithoutStackTrace()
    {
        await using var app = await StartAsync(new FailsAfterOneTokenEngine());
        using var client = app.Client();
        var response = await client.PostAsync("/v1/chat/completions", Chat(stream: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (events, sawDone) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(sawDone);
        var error = Assert.IsType<JsonObject>(events[^1]["error"]);
        Assert.Equal("internal_error", (string?)error["code"]);
        Assert.DoesNotContain(FailsAfterOneTokenEngine.Secret, events[^1].ToJsonString());
        Assert.DoesNotContain(" at ", (string?)error["message"]);
    }

    [Fact]
    public async Task FailureInNonStreamingRequestIs500EnvelopeWithoutStackTrace()
    {
        await using var app = await StartAsync(new FailsAfterOneTokenEngine());
        using var client = app.Client();
        var response = await client.PostAsync("/v1/chat/completions", Chat(stream: false));
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("\"internal_error\"", text);
        Assert.DoesNotContain(FailsAfterOneTokenEngine.Secret, text);
        Assert.DoesNotContain(" at ", text);
    }

    [Fact]
    public async Task ClientLeavingANonStreamingRequestCancelsItsGeneration()
    {
        var engine = new EndlessEngine();
        await using var app = await StartAsync(engine);
        using var client = app.Client();
        using var cts = new CancellationTokenSource();
        var pending = client.PostAsync("/v1/chat/completions", Chat(stream: false), cts.Token);
        await engine.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await engine.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task StreamedChineseTextStaysReadableOneLinePerEvent()
    {
        await using var app = await StartAsync(new ChineseEngine());
        using var client = app.Client();
        var response = await client.PostAsync("/v1/chat/completions", Chat(stream: true));
        string raw = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"content\":\"你好\"", raw);
        Assert.EndsWith("data: [DONE]\n\n", raw);
        var (events, sawDone) = await ModelServer.ReadStreamLikeDifyAsync(new HttpResponseMessage { Content = new StringContent(raw) });
        Assert.True(sawDone);
        Assert.Equal("stop", (string?)events[^1]["choices"]![0]!["finish_reason"]);
    }

    private sealed class ChineseEngine : ScriptedEngine
    {
        public override async IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            yield return Token(1) with { TextDelta = "你好" };
            yield return new GenerationOutput { TextDelta = "", Finish = FinishReason.Stop, PromptTokens = 9, CompletionTokens = 1 };
        }
    }

    /// <summary>What every scripted engine shares: an empty queue, and no adapters (none loaded, loading refused).</summary>
    private abstract class ScriptedEngine : IInferenceEngine
    {
        public int QueueDepth => 0;
        public int RunningCount => 0;
        public IReadOnlyCollection<string> AdapterNames => [];

        public abstract IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken);

        public Task LoadAdapterAsync(string name, string folder, CancellationToken cancellationToken) =>
            throw new NotSupportedException("scripted engines load no adapters");

        public Task UnloadAdapterAsync(string name, CancellationToken cancellationToken) => throw new KeyNotFoundException(name);
    }

    private static GenerationOutput Token(int completionTokens) =>
        new() { TokenId = 9707, TextDelta = "Hello", PromptTokens = 9, CompletionTokens = completionTokens };

    /// <summary>Choice 0 produces a token; choice 1 is refused (queue full) only once choice 0 has been read.</summary>
    private sealed class RefusesSecondChoiceEngine : ScriptedEngine
    {
        private readonly TaskCompletionSource _firstRead = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
        {
            if (request.RequestId.EndsWith("-0", StringComparison.Ordinal)) return FirstAsync(cancellationToken);
            // Admission is synchronous, as in the real engine; the refusal comes once choice 0 is under way
            // (or after a while, if the server submits every choice before reading any).
            _firstRead.Task.Wait(TimeSpan.FromSeconds(2), CancellationToken.None);
            throw new EngineOverloadedException(TimeSpan.FromSeconds(3));
        }

        private async IAsyncEnumerable<GenerationOutput> FirstAsync([EnumeratorCancellation] CancellationToken ct)
        {
            yield return Token(1);
            _firstRead.TrySetResult();
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            yield return Token(2) with { Finish = FinishReason.Length };
        }
    }

    private sealed class FailsAfterOneTokenEngine : ScriptedEngine
    {
        public const string Secret = "secret-internal-detail";

        public override async IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return Token(1);
            await Task.Yield();
            throw new InferenceFailedException(request.RequestId, new InvalidOperationException(Secret));
        }
    }

    private sealed class EndlessEngine : ScriptedEngine
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async IAsyncEnumerable<GenerationOutput> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            using var registration = cancellationToken.Register(() => Cancelled.TrySetResult());
            for (int i = 1; ; i++)
            {
                yield return Token(i);
                Started.TrySetResult();
                await Task.Delay(20, CancellationToken.None);
                if (cancellationToken.IsCancellationRequested) yield break;
            }
        }
    }
}

using System.Net;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// Generation through raw HTTP with the random-weight demo model: its text is noise, so these check
/// structure, token ids (return_token_ids), determinism and streaming/non-streaming consistency.
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class GenerationTests(ModelServer server)
{
    private static object Chat(bool stream, int maxTokens = 12, object? extra = null) => new Dictionary<string, object?>
    {
        ["model"] = ModelServer.Model,
        ["messages"] = new[] { new { role = "user", content = "请推荐适合经常口臭的中药" } },
        ["max_tokens"] = maxTokens,
        ["temperature"] = 0,
        ["return_token_ids"] = true,
        ["stream"] = stream,
        ["chat_template_kwargs"] = new { enable_thinking = false },
    };

    private static int[] Ids(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    [Fact]
    public async Task GreedyChatIsDeterministicAndReturnsTokenIds()
    {
        var a = await server.PostJsonAsync("/v1/chat/completions", Chat(stream: false));
        var b = await server.PostJsonAsync("/v1/chat/completions", Chat(stream: false));
        Assert.Equal("chat.completion", (string?)a["object"]);
        var ids = Ids(a["choices"]![0]!["token_ids"]);
        Assert.Equal(12, ids.Length);
        Assert.Equal(ids, Ids(b["choices"]![0]!["token_ids"]));
        // The prompt ids are the rendered template's: it ends with the empty think block of enable_thinking=false.
        var promptIds = Ids(a["prompt_token_ids"]);
        Assert.Equal([151667, 271, 151668, 271], promptIds[^4..]);
        Assert.Equal(promptIds.Length, (int)a["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task StreamingChatMatchesNonStreamingTokenForToken()
    {
        var whole = await server.PostJsonAsync("/v1/chat/completions", Chat(stream: false));
        using var client = server.App.Client();
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(Chat(stream: true)));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done);
        Assert.Equal("assistant", (string?)events[0]["choices"]![0]!["delta"]!["role"]);
        var streamedIds = events.SelectMany(e => e["choices"]!.AsArray())
            .Where(c => c!["token_ids"] is not null).SelectMany(c => Ids(c!["token_ids"])).ToArray();
        Assert.Equal(Ids(whole["choices"]![0]!["token_ids"]), streamedIds);
        string streamedText = string.Concat(events.SelectMany(e => e["choices"]!.AsArray())
            .Select(c => (string?)c!["delta"]!["content"] ?? "").Concat([""]));
        string? wholeText = (string?)whole["choices"]![0]!["message"]!["content"];
        Assert.Equal(wholeText ?? "", streamedText);
        Assert.Equal("length", (string?)events.Last()["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task SameSeedSamplesTheSameTokens()
    {
        object Seeded(int seed) => new
        {
            model = ModelServer.Model, prompt = "Once upon a time", max_tokens = 10, temperature = 1.0,
            seed, return_token_ids = true
        };
        var a = await server.PostJsonAsync("/v1/completions", Seeded(7));
        var b = await server.PostJsonAsync("/v1/completions", Seeded(7));
        var c = await server.PostJsonAsync("/v1/completions", Seeded(8));
        Assert.Equal(Ids(a["choices"]![0]!["token_ids"]), Ids(b["choices"]![0]!["token_ids"]));
        Assert.NotEqual(Ids(a["choices"]![0]!["token_ids"]), Ids(c["choices"]![0]!["token_ids"]));
    }

    [Fact]
    public async Task CompletionAcceptsTokenIdPromptsAndEchoesThem()
    {
        var byText = await server.PostJsonAsync("/tokenize", new { model = ModelServer.Model, prompt = "Hello world" });
        var ids = Ids(byText["tokens"]);
        var r = await server.PostJsonAsync("/v1/completions", new
        {
            model = ModelServer.Model, prompt = ids, max_tokens = 3,
            temperature = 0, return_token_ids = true
        });
        Assert.Equal("text_completion", (string?)r["object"]);
        Assert.Equal(ids, Ids(r["choices"]![0]!["prompt_token_ids"]));
        Assert.Equal(3, Ids(r["choices"]![0]!["token_ids"]).Length);
        var detok = await server.PostJsonAsync("/detokenize", new { model = ModelServer.Model, tokens = ids });
        Assert.Equal("Hello world", (string?)detok["prompt"]);
    }

    [Fact]
    public async Task NChoicesAreAllReturned()
    {
        var r = await server.PostJsonAsync("/v1/chat/completions", new
        {
            model = ModelServer.Model, n = 3, max_tokens = 4, seed = 1,
            messages = new[] { new { role = "user", content = "hi" } }
        });
        Assert.Equal([0, 1, 2], r["choices"]!.AsArray().Select(c => (int)c!["index"]!));
        Assert.Equal(12, (int)r["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task UnknownModelIs404ListingServedModels()
    {
        using var client = server.App.Client();
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions",
            ModelServer.Json(new { model = "gpt-4", messages = new[] { new { role = "user", content = "x" } } })));
        Assert.Equal((HttpStatusCode.NotFound, "model_not_found", "model"), (error.Status, error.Code, error.Param));
        Assert.Contains(ModelServer.Model, error.Message);
    }

    [Fact]
    public async Task PromptLongerThanTheContextIs400()
    {
        using var client = server.App.Client();
        string huge = string.Concat(Enumerable.Repeat("token ", 5000)); // the demo model's context is 4096
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions",
            ModelServer.Json(new { model = ModelServer.Model, messages = new[] { new { role = "user", content = huge } } })));
        Assert.Equal((HttpStatusCode.BadRequest, "context_length_exceeded"), (error.Status, error.Code));
    }

    [Fact]
    public async Task OutOfVocabularyTokenIdIs400()
    {
        using var client = server.App.Client();
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/completions",
            ModelServer.Json(new { model = ModelServer.Model, prompt = new[] { 1, 999999 } })));
        Assert.Equal((HttpStatusCode.BadRequest, "prompt"), (error.Status, error.Param));
    }

    [Fact]
    public async Task ClientDisconnectMidStreamFreesTheEngine()
    {
        var host = server.App.App.Services.GetRequiredService<QwenAspire.InferenceApi.Serving.ModelRegistry>();
        Assert.True(host.TryGetModels(out var models, out _));
        using var client = server.App.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = ModelServer.Json(new
            {
                model = ModelServer.Model, stream = true, max_tokens = 3000, ignore_eos = true,
                messages = new[] { new { role = "user", content = "Write forever." } }
            }),
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        Assert.True(models.Engine.RunningCount + models.Engine.QueueDepth > 0, "generation should be running");
        response.Dispose(); // the client goes away mid-stream
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (models.Engine.RunningCount + models.Engine.QueueDepth > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the engine still runs the abandoned request");
            await Task.Delay(50);
        }
    }
}

using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Models;

namespace QwenAspire.FunctionalTests.Quirks;

/// <summary>Request fields and routes clients use that plain OpenAI chat does not, and what /v1/models tells them.</summary>
[Collection(ModelCollection.Name)]
public sealed class RequestFieldTests(ModelServer server)
{
    [Fact]
    public async Task MaxCompletionTokensWinsOverMaxTokensAndEitherAloneLimitsTheAnswer()
    {
        foreach (var (fields, expected) in new[] { ("\"max_tokens\": 3", 3), ("\"max_completion_tokens\": 2", 2), ("\"max_tokens\": 6, \"max_completion_tokens\": 4", 4) })
        {
            var json = await server.PostJsonAsync("/v1/chat/completions", $$"""
                {"model": "{{ModelServer.Model}}", "messages": [{"role": "user", "content": "Tell me a story"}], "temperature": 0,
                 "ignore_eos": true, {{fields}}}
                """);
            Assert.Equal(expected, (int)json["usage"]!["completion_tokens"]!);
            Assert.Equal("length", (string?)json["choices"]![0]!["finish_reason"]);
        }
    }

    [Theory]
    [InlineData("chat/completions/chat/completions")]      // Base URL typed as http://HOST:8000/chat/completions (no /v1)
    [InlineData("v1/chat/completions/chat/completions")]   // … as http://HOST:8000/v1/chat/completions
    public async Task DifyChatModeWithAFullUrlAsBaseUrlIsServed(string path)
    {
        using var client = server.App.Client();
        var response = await client.PostAsync(path, ModelServer.Json(
            $$"""{"model": "{{ModelServer.Model}}", "max_tokens": 5, "messages": [{"role": "user", "content": "ping"}], "stream": false}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("chat.completion", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["object"]);
    }

    [Theory]
    [InlineData("v1/chat/completions/completions")]        // "Completion" mode: Dify appends "completions" to the full chat URL
    [InlineData("chat/completions/completions")]
    public async Task DifyCompletionModeWithTheFullChatUrlIsServedAsACompletion(string path)
    {
        // openai_api_compatible 0.0.63, completion mode: prompt, not messages; stream with usage.
        using var client = server.App.Client();
        var response = await client.PostAsync(path, ModelServer.Json($$"""
            {"model": "{{ModelServer.Model}}", "prompt": "Once upon a time", "max_tokens": 4, "temperature": 0.7, "top_p": 0.9,
             "stream": true, "stream_options": {"include_usage": true}, "user": "dify-user"}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done);
        Assert.All(events, e => Assert.Equal("text_completion", (string?)e["object"]));
        Assert.Equal(4, (int)events.Last()["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task ModelsCarryMaxModelLenAndTheSdkListsThem()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential(TestApp.Key), new OpenAIClientOptions { Endpoint = new Uri(server.App.BaseAddress, "v1") });
        OpenAIModelCollection models = await client.GetModelsAsync();
        Assert.Contains(models, m => m.Id == ModelServer.Model);

        using var http = server.App.Client();
        var card = JsonNode.Parse(await http.GetStringAsync("/v1/models"))!["data"]!.AsArray().Single(m => (string?)m!["id"] == ModelServer.Model)!;
        Assert.Equal(4096, (int)card["max_model_len"]!);          // the demo model's max_position_embeddings
        Assert.True(card.AsObject().ContainsKey("parent"));         // null for the base model, the base's name for an adapter
        Assert.Null(card["parent"]);
    }
}

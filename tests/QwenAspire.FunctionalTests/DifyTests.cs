using System.Net;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests;

/// <summary>Dify's OpenAI-API-compatible provider, replayed request for request (it appends "chat/completions" to the Base URL).</summary>
[Collection(ModelCollection.Name)]
public sealed class DifyTests(ModelServer server)
{
    private HttpClient DifyClient()
    {
        var client = server.App.Client();
        client.DefaultRequestHeaders.Add("Accept-Charset", "utf-8");
        return client;
    }

    [Theory]
    [InlineData("v1/chat/completions")]                    // Base URL http://HOST:8000/v1 (the documented one)
    [InlineData("v1/chat/completions/chat/completions")]   // the old guide's full URL, doubled by Dify
    public async Task ValidationPingAnswersChatCompletion(string path)
    {
        using var client = DifyClient();
        var response = await client.PostAsync(path, ModelServer.Json(
            $$"""{"model": "{{ModelServer.Model}}", "max_tokens": 5, "messages": [{"role": "user", "content": "ping"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("chat.completion", (string?)json["object"]);
    }

    [Fact]
    public async Task StreamingWithIncludeUsageParsesTheWayDifyReadsIt()
    {
        using var client = DifyClient();
        var response = await client.PostAsync("v1/chat/completions", ModelServer.Json($$$"""
            {"model": "{{{ModelServer.Model}}}", "stream": true, "stream_options": {"include_usage": true},
             "messages": [{"role": "system", "content": "You are a TCM doctor."}, {"role": "user", "content": "口臭怎么办？"}],
             "temperature": 0.7, "top_p": 0.9, "max_tokens": 16, "stop": ["\n\n\n"], "user": "dify-user-1",
             "response_format": {"type": "text"}}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done, "stream must end with data: [DONE]");
        // Dify indexes chunk["choices"] on every JSON event, the usage chunk included.
        Assert.All(events, e => Assert.NotNull(e["choices"]));
        Assert.All(events, e => Assert.Equal("chat.completion.chunk", (string?)e["object"]));
        var finish = events.Where(e => e["choices"]!.AsArray().Count > 0)
            .Select(e => (string?)e["choices"]![0]!["finish_reason"]).Where(f => f is not null).ToList();
        Assert.Single(finish);
        var usage = events.Last()["usage"]!;
        Assert.Empty(events.Last()["choices"]!.AsArray());
        Assert.True((int)usage["completion_tokens"]! is > 0 and <= 16);
        Assert.Equal((int)usage["prompt_tokens"]! + (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
    }

    [Fact]
    public async Task FunctionCallingRequestStreamsWellFormedChunks()
    {
        using var client = DifyClient();
        var response = await client.PostAsync("v1/chat/completions", ModelServer.Json($$$$"""
            {"model": "{{{{ModelServer.Model}}}}", "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 12,
             "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
             "tool_choice": "auto"}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done);
        Assert.Contains(events, e => e["choices"]!.AsArray().Count > 0 && e["choices"]![0]!["finish_reason"] is not null);
    }

    [Fact]
    public async Task ThinkingIsSplitIntoReasoningContentOnlyWhenEnabled()
    {
        // The prompt rendered for thinking=false carries an empty think block; thinking=true leaves it to the model.
        var off = await server.PostJsonAsync("/tokenize", new
        {
            model = ModelServer.Model, messages = new[] { new { role = "user", content = "hi" } },
            chat_template_kwargs = new { enable_thinking = false }
        });
        var on = await server.PostJsonAsync("/tokenize", new { model = ModelServer.Model, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.EndsWith("<think>\n\n</think>\n\n", (string?)off["prompt"]);
        Assert.EndsWith("<|im_start|>assistant\n", (string?)on["prompt"]);
    }
}

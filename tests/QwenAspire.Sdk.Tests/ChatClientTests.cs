using System.Net;
using Microsoft.Extensions.AI;

namespace QwenAspire.Sdk.Tests;

public sealed class ChatClientTests
{
    [Fact]
    public async Task NonStreamingAnswerSurfacesReasoningTextUsageAndTokenIds()
    {
        var server = new RecordedServer().Json("chat-reasoning.json");
        using var client = server.CreateClient();

        var response = await client.GetResponseAsync("What is the capital of France?");

        Assert.Equal("The capital of France is Paris.", response.Text);
        var reasoning = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>());
        Assert.Equal("The user asks for the capital of France. That is Paris.", reasoning.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("chatcmpl-5d1c2e0b9a7f4e33", response.ResponseId);
        Assert.Equal("qwen3-1.7b", response.ModelId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764091234), response.CreatedAt);
        Assert.Equal(17, response.Usage?.InputTokenCount);
        Assert.Equal(29, response.Usage?.OutputTokenCount);
        Assert.Equal(46, response.Usage?.TotalTokenCount);
        Assert.Equal(21, response.Usage?.ReasoningTokenCount);
        Assert.Equal(17, Assert.IsType<int[]>(response.AdditionalProperties?["prompt_token_ids"]).Length);
        Assert.Equal(151645, Assert.IsType<int[]>(response.Messages[0].AdditionalProperties?["token_ids"])[^1]);

        var sent = Assert.Single(server.Requests);
        Assert.Equal("http://qwen.test:8000/v1/chat/completions", sent.Uri.ToString());
        Assert.Equal("Bearer sk-test", sent.Authorization);
        Assert.False(sent.Json.TryGetProperty("stream", out _));
        Assert.Equal("user", sent.Json.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal("What is the capital of France?", sent.Json.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task StreamingYieldsReasoningDeltasThenTextThenUsage()
    {
        var server = new RecordedServer().Sse("stream-reasoning.sse");
        using var client = server.CreateClient();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Capital of France?"))
            updates.Add(update);

        var reasoning = string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text));
        Assert.Equal("Capital of France.", reasoning);
        Assert.Equal("Paris ✓", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, Assert.Single(updates, u => u.FinishReason is not null).FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
        Assert.Equal(12, usage.Details.InputTokenCount);
        Assert.Equal(9, usage.Details.OutputTokenCount);
        // Reasoning arrives before any answer text, as the server streams it.
        var firstText = updates.FindIndex(u => u.Text.Length > 0);
        var lastReasoning = updates.FindLastIndex(u => u.Contents.OfType<TextReasoningContent>().Any());
        Assert.True(lastReasoning < firstText);

        var combined = updates.ToChatResponse();
        Assert.Equal("Paris ✓", combined.Text);
        Assert.Equal(21, combined.Usage?.TotalTokenCount);

        var sent = Assert.Single(server.Requests).Json;
        Assert.True(sent.GetProperty("stream").GetBoolean());
        Assert.True(sent.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task StreamingAssemblesToolCallArgumentFragmentsByIndex()
    {
        var server = new RecordedServer().Sse("stream-tool-calls.sse");
        using var client = server.CreateClient();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Weather and time in Paris?"))
            updates.Add(update);

        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal(("call_a1", "get_weather"), (calls[0].CallId, calls[0].Name));
        Assert.Equal("Paris", calls[0].Arguments?["city"]?.ToString());
        Assert.Equal(("call_b2", "get_time"), (calls[1].CallId, calls[1].Name));
        Assert.Equal("Europe/Paris", calls[1].Arguments?["zone"]?.ToString());
        Assert.All(calls, c => Assert.Null(c.Exception));
        Assert.Equal(ChatFinishReason.ToolCalls, updates.Single(u => u.FinishReason is not null).FinishReason);
    }

    [Fact]
    public async Task ErrorEnvelopeBecomesTypedException()
    {
        var server = new RecordedServer().Json("error-context.json", HttpStatusCode.BadRequest);
        using var client = server.CreateClient();

        var ex = await Assert.ThrowsAsync<QwenApiException>(() => client.GetResponseAsync("too long"));

        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Equal("invalid_request_error", ex.ErrorType);
        Assert.Equal("context_length_exceeded", ex.Code);
        Assert.Equal("messages", ex.Param);
        Assert.StartsWith("This model's maximum context length is 4096 tokens.", ex.Message);
    }

    [Fact]
    public async Task QueueFullCarriesRetryAfterAndStreamingErrorsThrowBeforeAnyUpdate()
    {
        var server = new RecordedServer().Enqueue(() =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
            {
                Content = new StringContent("""{"error":{"message":"The request queue is full.","type":"server_busy","param":null,"code":429}}"""),
            };
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(3));
            return response;
        });
        using var client = server.CreateClient();

        var ex = await Assert.ThrowsAsync<QwenApiException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync("hi"))
                Assert.Fail("No update may come from a refused request.");
        });

        Assert.Equal(HttpStatusCode.TooManyRequests, ex.StatusCode);
        Assert.Equal("429", ex.Code);
        Assert.Equal(TimeSpan.FromSeconds(3), ex.RetryAfter);
    }

    [Fact]
    public async Task ErrorEventInsideStreamThrowsAfterTheTextAlreadySent()
    {
        var server = new RecordedServer().Sse("stream-error.sse");
        using var client = server.CreateClient();
        var text = "";

        var ex = await Assert.ThrowsAsync<QwenApiException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("hi"))
                text += update.Text;
        });

        Assert.Equal("Hel", text);
        Assert.Equal("engine_error", ex.Code);
        Assert.Equal("server_error", ex.ErrorType);
        Assert.Equal("The engine stopped: out of KV cache blocks.", ex.Message);
    }

    [Fact]
    public async Task NonJsonErrorBodyStillNamesStatusAndBody()
    {
        var server = new RecordedServer().Enqueue(() => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>bad gateway</html>") });
        using var client = server.CreateClient();

        var ex = await Assert.ThrowsAsync<QwenApiException>(() => client.GetResponseAsync("hi"));

        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Contains("502", ex.Message);
        Assert.Contains("bad gateway", ex.Message);
    }

    [Fact]
    public async Task ModelComesFromModelsListWhenNoneIsConfigured()
    {
        var server = new RecordedServer().Json("models.json").Json("chat-reasoning.json").Json("chat-reasoning.json");
        using var client = server.CreateClient(model: null, endpoint: "http://qwen.test:8000/v1/");

        await client.GetResponseAsync("one");
        await client.GetResponseAsync("two");

        Assert.Equal(3, server.Requests.Count);
        Assert.Equal("http://qwen.test:8000/v1/models", server.Requests[0].Uri.ToString());
        Assert.Equal("qwen3-1.7b", server.Requests[1].Json.GetProperty("model").GetString());
        Assert.Equal("qwen3-1.7b", server.Requests[2].Json.GetProperty("model").GetString());
    }
}

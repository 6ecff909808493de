using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Hosting;
using QwenAspire.Engine.Diagnostics;
using QwenAspire.InferenceApi.Diagnostics;
using QwenAspire.InferenceApi.Hosting;

namespace QwenAspire.FunctionalTests;

/// <summary>The API's telemetry on the demo model: Prometheus /metrics (protected by the API keys) and GenAI spans.</summary>
[Collection(ModelCollection.Name)]
public sealed class TelemetryTests(ModelServer server)
{
    private static HttpRequestMessage Scrape(string? key) => new(HttpMethod.Get, "/metrics")
    {
        Headers = { Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key) },
    };

    private static object Chat(bool stream, long seed) => new Dictionary<string, object?>
    {
        ["model"] = ModelServer.Model,
        ["messages"] = new[] { new { role = "user", content = "hello" } },
        ["max_tokens"] = 3,
        ["temperature"] = 0,
        ["seed"] = seed,
        ["stop"] = new[] { "<never-stop>" },
        ["stream"] = stream,
        ["stream_options"] = stream ? new { include_usage = true } : null,
    };

    [Fact]
    public async Task ProtectedMetricsAcceptTheApiKeyAndShowEngineSeriesAfterAChat()
    {
        await server.PostJsonAsync("/v1/chat/completions", Chat(stream: false, seed: 1));
        using var http = server.App.Client(key: null);

        using var anonymous = await http.SendAsync(Scrape(null));
        using var wrong = await http.SendAsync(Scrape("sk-wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        // The engine counts a request when it finishes, which may trail the response by a moment.
        string text = "";
        for (int attempt = 0; attempt < 40 && !System.Text.RegularExpressions.Regex.IsMatch(text, @"(?m)^qwenaspire_requests_total(\{.*\})? [1-9]"); attempt++)
        {
            if (attempt > 0) await Task.Delay(100);
            using var scrape = await http.SendAsync(Scrape(TestApp.Key));
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            text = await scrape.Content.ReadAsStringAsync();
        }
        Assert.Matches(@"(?m)^qwenaspire_requests_total\{.*finish_reason=""length"".*\} [1-9]", text);
        Assert.Matches(@"(?m)^qwenaspire_tokens_prompt_total(\{.*\})? [1-9]", text);
        Assert.Matches(@"(?m)^qwenaspire_tokens_generated_total(\{.*\})? [1-9]", text);
        Assert.Matches(@"(?m)^qwenaspire_time_to_first_token_seconds_bucket\{", text);
        Assert.Contains("qwenaspire_queue_depth", text);
        Assert.Contains("qwenaspire_kv_blocks_used", text);
        Assert.Contains("http_server_request_duration_seconds", text);
    }

    [Fact]
    public async Task PublicMetricsNeedNoKey()
    {
        var gate = new ModelLoadGate(); // never opened: the scrape endpoint does not depend on the model
        await using var app = await TestApp.StartAsync(s => s.AddSingleton(gate), "--Telemetry:Prometheus:Public=true");
        using var http = app.Client(key: null);

        using var response = await http.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EachChatRequestIsAGenAiSpan(bool stream)
    {
        using var spans = new SpanRecorder();
        using var client = server.App.Client();
        using var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(Chat(stream, seed: 7)));
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string id = System.Text.RegularExpressions.Regex.Match(body, "\"id\":\"(chatcmpl-[0-9a-f]+)\"").Groups[1].Value;
        var usage = System.Text.RegularExpressions.Regex.Match(body, "\"prompt_tokens\":(\\d+),\"completion_tokens\":(\\d+)");
        Assert.True(usage.Success, body);

        var span = await spans.WaitForAsync(id);
        Assert.Equal($"chat {ModelServer.Model}", span.DisplayName);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(InferenceApiTelemetry.ProviderName, span.GetTagItem("gen_ai.provider.name"));
        // Aspire's dashboard marks a span as GenAI by gen_ai.system or gen_ai.provider.name (docs/aspire.md).
        Assert.Equal(InferenceApiTelemetry.ProviderName, span.GetTagItem("gen_ai.system"));
        Assert.Equal(ModelServer.Model, span.GetTagItem("gen_ai.request.model"));
        Assert.Equal(ModelServer.Model, span.GetTagItem("gen_ai.response.model"));
        Assert.Equal(3, span.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(0.0, span.GetTagItem("gen_ai.request.temperature"));
        Assert.Equal(7L, span.GetTagItem("gen_ai.request.seed"));
        Assert.Equal(["<never-stop>"], (string[])span.GetTagItem("gen_ai.request.stop_sequences")!);
        Assert.Equal(int.Parse(usage.Groups[1].Value), span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(int.Parse(usage.Groups[2].Value), span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(["length"], (string[])span.GetTagItem("gen_ai.response.finish_reasons")!);
        Assert.Equal("chat_completions", span.GetTagItem("openai.api.type"));
        Assert.Equal("text", span.GetTagItem("gen_ai.output.type"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task EachResponsesRequestIsAGenAiChatSpan(bool stream, bool json)
    {
        using var spans = new SpanRecorder();
        var request = new Dictionary<string, object?>
        {
            ["model"] = ModelServer.Model,
            ["input"] = "hello",
            ["max_output_tokens"] = 3,
            ["temperature"] = 0,
            ["seed"] = 9,
            ["stream"] = stream,
            ["text"] = json ? new { format = new { type = "json_object" } } : null,
        };
        using var client = server.App.Client();
        using var response = await client.PostAsync("/v1/responses", ModelServer.Json(request));
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string id = System.Text.RegularExpressions.Regex.Match(body, "\"id\":\"(resp_[0-9a-f]+)\"").Groups[1].Value;
        // Streaming: only the last event (response.incomplete) carries the usage.
        var input = System.Text.RegularExpressions.Regex.Matches(body, "\"input_tokens\":(\\d+)");
        var output = System.Text.RegularExpressions.Regex.Matches(body, "\"output_tokens\":(\\d+)");
        Assert.True(input.Count > 0 && output.Count > 0, body);

        var span = await spans.WaitForAsync(id);
        Assert.Equal($"chat {ModelServer.Model}", span.DisplayName);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("responses", span.GetTagItem("openai.api.type"));
        Assert.Equal(InferenceApiTelemetry.ProviderName, span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal(ModelServer.Model, span.GetTagItem("gen_ai.request.model"));
        Assert.Equal(3, span.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(9L, span.GetTagItem("gen_ai.request.seed"));
        Assert.Equal(json ? "json" : "text", span.GetTagItem("gen_ai.output.type"));
        Assert.Equal(int.Parse(input[^1].Groups[1].Value), span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(3, int.Parse(output[^1].Groups[1].Value));
        Assert.Equal(3, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(["length"], (string[])span.GetTagItem("gen_ai.response.finish_reasons")!); // status incomplete
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }
}

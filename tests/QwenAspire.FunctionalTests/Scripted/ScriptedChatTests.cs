using System.Net;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>
/// Thinking, eos and stop strings end to end over raw HTTP: the scripted model really emits
/// &lt;think&gt;…&lt;/think&gt; and &lt;|im_end|&gt;, so reasoning_content and finish_reason "stop" come from the engine.
/// </summary>
[Collection(ScriptedCollection.Name)]
public sealed class ScriptedChatTests(ScriptedServers servers)
{
    /// <summary>Tokens after the prompt: &lt;think&gt; Let ␣me ␣think . &lt;/think&gt; \n\n Hello ! &lt;|im_end|&gt;.</summary>
    private const int ScriptTokens = 10;

    internal static object ChatBody(string model, bool stream = false, bool? thinking = null, string[]? stop = null, double? temperature = null) => new Dictionary<string, object?>
    {
        ["model"] = model,
        ["messages"] = new[] { new { role = "user", content = "Say hello." } },
        ["stream"] = stream,
        ["stream_options"] = stream ? new { include_usage = true } : null,
        ["chat_template_kwargs"] = thinking is { } t ? new { enable_thinking = t } : null,
        ["stop"] = stop,
        ["temperature"] = temperature,
    }.Where(kv => kv.Value is not null).ToDictionary();

    internal static async Task<JsonObject> PostAsync(TestApp app, object body)
    {
        using var client = app.Client();
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    internal static async Task<List<JsonObject>> StreamAsync(TestApp app, object body)
    {
        using var client = app.Client();
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done, "stream must end with data: [DONE]");
        return events;
    }

    private static IEnumerable<JsonNode> Deltas(IEnumerable<JsonObject> events) =>
        events.Where(e => e["choices"]!.AsArray().Count > 0).Select(e => e["choices"]![0]!["delta"]!);

    private static string Concat(IEnumerable<JsonObject> events, string field) =>
        string.Concat(Deltas(events).Select(d => (string?)d[field] ?? ""));

    [Fact]
    public async Task NonStreamingAnswerSplitsThinkingIntoReasoningContentAndStopsOnEos()
    {
        // No temperature: the server samples at generation_config's 0.6 / top_k 20 / top_p 0.95.
        var json = await PostAsync(servers.Chat, ChatBody(ScriptedServers.ChatModel));
        var choice = json["choices"]![0]!;
        Assert.Equal(ScriptedServers.Reasoning, (string?)choice["message"]!["reasoning_content"]);
        Assert.Equal(ScriptedServers.Answer, (string?)choice["message"]!["content"]);
        Assert.Equal("stop", (string?)choice["finish_reason"]);
        Assert.Equal(ScriptTokens, (int)json["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task StreamingSendsReasoningDeltasThenContentDeltasThatAddUpToTheNonStreamingAnswer()
    {
        var whole = await PostAsync(servers.Chat, ChatBody(ScriptedServers.ChatModel, temperature: 0));
        var events = await StreamAsync(servers.Chat, ChatBody(ScriptedServers.ChatModel, stream: true, temperature: 0));

        var message = whole["choices"]![0]!["message"]!;
        Assert.Equal((string?)message["reasoning_content"], Concat(events, "reasoning_content"));
        Assert.Equal((string?)message["content"], Concat(events, "content"));
        var deltas = Deltas(events).ToList();
        int lastReasoning = deltas.FindLastIndex(d => !string.IsNullOrEmpty((string?)d["reasoning_content"]));
        int firstContent = deltas.FindIndex(d => !string.IsNullOrEmpty((string?)d["content"]));
        Assert.True(lastReasoning >= 1 && firstContent > lastReasoning, $"reasoning chunks (last {lastReasoning}) must precede content (first {firstContent})");
        Assert.True(deltas.Count(d => !string.IsNullOrEmpty((string?)d["reasoning_content"])) > 1, "reasoning arrives token by token");

        var finishes = events.Where(e => e["choices"]!.AsArray().Count > 0)
            .Select(e => (string?)e["choices"]![0]!["finish_reason"]).Where(f => f is not null).ToList();
        Assert.Equal(["stop"], finishes);
        var usage = events[^1]["usage"]!;
        Assert.Equal(ScriptTokens, (int)usage["completion_tokens"]!);
        Assert.Equal((int)whole["usage"]!["prompt_tokens"]!, (int)usage["prompt_tokens"]!);
        Assert.Equal((int)usage["prompt_tokens"]! + ScriptTokens, (int)usage["total_tokens"]!);
    }

    [Fact]
    public async Task DisabledThinkingAnswersWithoutReasoningContent()
    {
        var json = await PostAsync(servers.Chat, ChatBody(ScriptedServers.ChatModel, thinking: false));
        var choice = json["choices"]![0]!;
        Assert.Null(choice["message"]!["reasoning_content"]);
        Assert.Equal(ScriptedServers.Answer, (string?)choice["message"]!["content"]);
        Assert.Equal("stop", (string?)choice["finish_reason"]);
        Assert.Equal(3, (int)json["usage"]!["completion_tokens"]!); // Hello ! <|im_end|>

        var events = await StreamAsync(servers.Chat, ChatBody(ScriptedServers.ChatModel, stream: true, thinking: false));
        Assert.Equal("", Concat(events, "reasoning_content"));
        Assert.Equal(ScriptedServers.Answer, Concat(events, "content"));
    }

    [Fact]
    public async Task StopStringCutsTheAnswerAndReportsStop()
    {
        var json = await PostAsync(servers.Chat, ChatBody(ScriptedServers.ChatModel, stop: ["!"], temperature: 0));
        var choice = json["choices"]![0]!;
        Assert.Equal("Hello", (string?)choice["message"]!["content"]);
        Assert.Equal(ScriptedServers.Reasoning, (string?)choice["message"]!["reasoning_content"]);
        Assert.Equal("stop", (string?)choice["finish_reason"]);

        var events = await StreamAsync(servers.Chat, ChatBody(ScriptedServers.ChatModel, stream: true, stop: ["!"], temperature: 0));
        Assert.Equal("Hello", Concat(events, "content"));
        Assert.Equal("stop", events.Where(e => e["choices"]!.AsArray().Count > 0).Select(e => (string?)e["choices"]![0]!["finish_reason"]).Last(f => f is not null));
    }

    [Fact]
    public async Task DifyStyleStreamCarriesReasoningContent()
    {
        using var client = servers.Chat.Client();
        client.DefaultRequestHeaders.Add("Accept-Charset", "utf-8");
        var response = await client.PostAsync("v1/chat/completions", ModelServer.Json($$$"""
            {"model": "{{{ScriptedServers.ChatModel}}}", "stream": true, "stream_options": {"include_usage": true},
             "messages": [{"role": "system", "content": "You are a TCM doctor."}, {"role": "user", "content": "你好"}],
             "temperature": 0.7, "top_p": 0.9, "max_tokens": 64, "user": "dify-user-1", "response_format": {"type": "text"}}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done);
        Assert.All(events, e => Assert.NotNull(e["choices"]));
        Assert.Equal(ScriptedServers.Reasoning, Concat(events, "reasoning_content"));
        Assert.Equal(ScriptedServers.Answer, Concat(events, "content"));
    }
}

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using static QwenAspire.FunctionalTests.Scripted.ResponsesHttp;

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>
/// POST /v1/responses over raw HTTP against the scripted models, which really emit
/// &lt;think&gt;…&lt;/think&gt;Hello! and a &lt;tool_call&gt;: output items, the event sequence, usage and errors.
/// </summary>
[Collection(ScriptedCollection.Name)]
public sealed class ScriptedResponsesTests(ScriptedServers servers)
{
    /// <summary>Tokens after the prompt: &lt;think&gt; Let ␣me ␣think . &lt;/think&gt; \n\n Hello ! &lt;|im_end|&gt;.</summary>
    private const int ScriptTokens = 10;

    private static readonly JsonNode s_weatherTool = JsonNode.Parse("""
        {"type": "function", "name": "get_weather", "description": "Weather for a city", "strict": true,
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}
        """)!;

    private static Dictionary<string, object?> Body(string model, object? input = null, bool stream = false) => new()
    {
        ["model"] = model,
        ["input"] = input ?? "Say hello.",
        ["stream"] = stream,
    };

    [Fact]
    public async Task NonStreamingAnswerHasAReasoningItemThenAMessage()
    {
        var json = await PostAsync(servers.Chat, Body(ScriptedServers.ChatModel));
        Assert.StartsWith("resp_", (string?)json["id"]);
        Assert.Equal("response", (string?)json["object"]);
        Assert.Equal("completed", (string?)json["status"]);
        Assert.False((bool)json["store"]!);
        Assert.Null(json["incomplete_details"]);
        var output = json["output"]!.AsArray();
        Assert.Equal(2, output.Count);

        var reasoning = output[0]!;
        Assert.Equal("reasoning", (string?)reasoning["type"]);
        Assert.StartsWith("rs_", (string?)reasoning["id"]);
        Assert.Equal("reasoning_text", (string?)reasoning["content"]![0]!["type"]);
        Assert.Equal(ScriptedServers.Reasoning, (string?)reasoning["content"]![0]!["text"]);
        Assert.Equal(ScriptedServers.Reasoning, (string?)reasoning["summary"]![0]!["text"]);

        var message = output[1]!;
        Assert.Equal("message", (string?)message["type"]);
        Assert.Equal("assistant", (string?)message["role"]);
        Assert.Equal("completed", (string?)message["status"]);
        var part = Assert.Single(message["content"]!.AsArray())!;
        Assert.Equal("output_text", (string?)part["type"]);
        Assert.Equal(ScriptedServers.Answer, (string?)part["text"]);

        var usage = json["usage"]!;
        Assert.Equal(ScriptTokens, (int)usage["output_tokens"]!);
        Assert.Equal((int)usage["input_tokens"]! + ScriptTokens, (int)usage["total_tokens"]!);
        Assert.InRange((int)usage["output_tokens_details"]!["reasoning_tokens"]!, 1, ScriptTokens - 1);
    }

    [Fact]
    public async Task StreamSendsTheOfficialEventsInOrderWithSequenceNumbers()
    {
        var events = await StreamAsync(servers.Chat, Body(ScriptedServers.ChatModel, stream: true));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e["sequence_number"]!));

        // Runs of deltas collapsed: the order of everything else is exact.
        var types = Types(events).Where((t, i) => i == 0 || t != Types(events)[i - 1] || !t.EndsWith(".delta", StringComparison.Ordinal)).ToList();
        Assert.Equal(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.reasoning_text.delta", "response.reasoning_text.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done",
            "response.content_part.done", "response.output_item.done",
            "response.completed",
        ], types);

        Assert.Equal("in_progress", (string?)events[0]["response"]!["status"]);
        Assert.Empty(events[0]["response"]!["output"]!.AsArray());
        Assert.Equal(ScriptedServers.Reasoning, Concat(events, "response.reasoning_text.delta"));
        Assert.Equal(ScriptedServers.Answer, Concat(events, "response.output_text.delta"));
        var done = events.Single(e => (string?)e["type"] == "response.output_text.done");
        Assert.Equal(ScriptedServers.Answer, (string?)done["text"]);
        Assert.Equal(1, (int)done["output_index"]!);

        var added = events.Where(e => (string?)e["type"] == "response.output_item.added").ToList();
        Assert.Equal(["reasoning", "message"], added.Select(e => (string)e["item"]!["type"]!));
        Assert.All(added, e => Assert.Equal("in_progress", (string?)e["item"]!["status"]));
        var deltaIds = events.Where(e => (string?)e["type"] == "response.output_text.delta").Select(e => (string?)e["item_id"]).Distinct();
        Assert.Equal((string?)added[1]["item"]!["id"], Assert.Single(deltaIds));

        var completed = events[^1]["response"]!;
        Assert.Equal("completed", (string?)completed["status"]);
        Assert.Equal(2, completed["output"]!.AsArray().Count);
        Assert.Equal(ScriptTokens, (int)completed["usage"]!["output_tokens"]!);
        Assert.Equal((string?)events[0]["response"]!["id"], (string?)completed["id"]);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("minimal")]
    public async Task LowReasoningEffortTurnsThinkingOff(string effort)
    {
        var body = Body(ScriptedServers.ChatModel);
        body["reasoning"] = new { effort };
        var json = await PostAsync(servers.Chat, body);
        var item = Assert.Single(json["output"]!.AsArray())!;
        Assert.Equal("message", (string?)item["type"]);
        Assert.Equal(ScriptedServers.Answer, (string?)item["content"]![0]!["text"]);
        Assert.Equal(effort, (string?)json["reasoning"]!["effort"]);
    }

    [Fact]
    public async Task MaxOutputTokensEndsTheResponseIncomplete()
    {
        var body = Body(ScriptedServers.ChatModel);
        body["max_output_tokens"] = 3;
        var json = await PostAsync(servers.Chat, body);
        Assert.Equal("incomplete", (string?)json["status"]);
        Assert.Equal("max_output_tokens", (string?)json["incomplete_details"]!["reason"]);
        Assert.Equal(3, (int)json["usage"]!["output_tokens"]!);
        Assert.Equal("incomplete", (string?)json["output"]![0]!["status"]);

        body["stream"] = true;
        var events = await StreamAsync(servers.Chat, body);
        Assert.Equal("response.incomplete", (string?)events[^1]["type"]);
        Assert.Equal("max_output_tokens", (string?)events[^1]["response"]!["incomplete_details"]!["reason"]);
    }

    [Fact]
    public async Task ToolCallBecomesAFunctionCallItem()
    {
        var body = Body(ScriptedServers.ToolModel, "What's the weather in Paris?");
        body["tools"] = new[] { s_weatherTool };
        var json = await PostAsync(servers.Tool, body);
        var call = Assert.Single(json["output"]!.AsArray())!;
        Assert.Equal("function_call", (string?)call["type"]);
        Assert.StartsWith("fc_", (string?)call["id"]);
        Assert.StartsWith("call_", (string?)call["call_id"]);
        Assert.Equal("get_weather", (string?)call["name"]);
        Assert.Equal("completed", (string?)call["status"]);
        AssertParis((string?)call["arguments"]);

        body["stream"] = true;
        var events = await StreamAsync(servers.Tool, body);
        // The arguments stream as they are generated: several deltas between the item's added and done.
        var types = Types(events);
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added"], types[..3]);
        Assert.Equal(["response.function_call_arguments.done", "response.output_item.done", "response.completed"], types[^3..]);
        Assert.True(types.Count - 6 > 1, "arguments in one piece: " + string.Join(", ", types));
        Assert.All(types[3..^3], t => Assert.Equal("response.function_call_arguments.delta", t));
        AssertParis(Concat(events, "response.function_call_arguments.delta"));
        var argsDone = events.Single(e => (string?)e["type"] == "response.function_call_arguments.done");
        Assert.Equal("get_weather", (string?)argsDone["name"]);
        Assert.Equal((string?)events[2]["item"]!["call_id"], (string?)events[^1]["response"]!["output"]![0]!["call_id"]);
    }

    [Fact]
    public async Task FunctionCallOutputRoundTripRendersLikeTheChatConversation()
    {
        const string Arguments = """{"city":"Paris"}""";
        var body = Body(ScriptedServers.ChatModel, new object[]
        {
            new { type = "message", role = "user", content = new[] { new { type = "input_text", text = "What's the weather in Paris?" } } },
            new { type = "function_call", call_id = "call_1", name = "get_weather", arguments = Arguments },
            new { type = "function_call_output", call_id = "call_1", output = "Sunny, 21 °C" },
        });
        body["tools"] = new[] { s_weatherTool };
        body["instructions"] = "Be brief.";
        var json = await PostAsync(servers.Chat, body);
        var output = json["output"]!.AsArray();
        Assert.Equal(ScriptedServers.Answer, (string?)output[output.Count - 1]!["content"]![0]!["text"]);

        // The same conversation in chat's shape, as /tokenize renders it: the same prompt, token for token.
        using var client = servers.Chat.Client();
        var tokenized = await client.PostAsync("/tokenize", ModelServer.Json(new
        {
            model = ScriptedServers.ChatModel,
            messages = new object[]
            {
                new { role = "system", content = "Be brief." },
                new { role = "user", content = "What's the weather in Paris?" },
                new { role = "assistant", content = (string?)null,
                      tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = Arguments } } } },
                new { role = "tool", tool_call_id = "call_1", content = "Sunny, 21 °C" },
            },
            tools = new[] { new { type = "function", function = new { name = "get_weather", description = "Weather for a city", parameters = s_weatherTool["parameters"] } } },
        }));
        var count = JsonNode.Parse(await tokenized.Content.ReadAsStringAsync())!["count"];
        Assert.Equal((int)count!, (int)json["usage"]!["input_tokens"]!);
    }

    [Fact]
    public async Task StoreIsIgnoredAndPreviousResponseIdIsRefused()
    {
        var body = Body(ScriptedServers.ChatModel);
        body["store"] = true;
        Assert.False((bool)(await PostAsync(servers.Chat, body))["store"]!);

        body["previous_response_id"] = "resp_123";
        var error = await PostErrorAsync(servers.Chat, body, HttpStatusCode.BadRequest);
        Assert.Equal("previous_response_id", error.Param);
        Assert.Equal("unsupported_parameter", error.Code);
    }

    [Theory]
    [InlineData("""{"model":"qwen3-scripted"}""", "input", "missing_required_parameter")]
    [InlineData("""{"model":"qwen3-scripted","input":[]}""", "input", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":42}""", "input", "invalid_type")]
    [InlineData("""{"model":"qwen3-scripted","input":[{"type":"input_image","image_url":"x"}]}""", "input[0].type", "unsupported_value")]
    [InlineData("""{"model":"qwen3-scripted","input":[{"role":"tool","content":"x"}]}""", "input[0].role", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":[{"role":"user","content":[{"type":"input_image"}]}]}""", "input[0].content[0]", "unsupported_value")]
    [InlineData("""{"model":"qwen3-scripted","input":[{"type":"function_call","name":"f","arguments":"{}"}]}""", "input[0].call_id", "missing_required_parameter")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","tools":[{"type":"web_search"}]}""", "tools[0].type", "unsupported_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","tools":[{"type":"function","function":{"name":"f"}}]}""", "tools[0].name", "missing_required_parameter")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","temperature":3}""", "temperature", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","max_output_tokens":0}""", "max_output_tokens", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","reasoning":{"effort":"max"}}""", "reasoning.effort", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","text":{"format":{"type":"json_schema","schema":{}}}}""", "text.format.name", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","tool_choice":"required"}""", "tool_choice", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","tool_choice":"sometimes"}""", "tool_choice", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","tool_choice":{"type":"web_search_preview"}}""", "tool_choice.type", "unsupported_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","tool_choice":{"type":"function"}}""", "tool_choice.name", "missing_required_parameter")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"g"}}""", "tool_choice.name", "invalid_value")]
    [InlineData("""{"model":"qwen3-scripted","input":"hi","temperature":"hot"}""", "temperature", null)]
    public async Task BadRequestsGetTheErrorEnvelope(string body, string param, string? code)
    {
        var error = await PostErrorAsync(servers.Chat, body, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(param, error.Param);
        if (code is not null) Assert.Equal(code, error.Code);
    }

    [Fact]
    public async Task UnknownModelIs404AndAMissingKeyIs401()
    {
        var error = await PostErrorAsync(servers.Chat, Body("no-such-model"), HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", error.Code);
        Assert.Contains(ScriptedServers.ChatModel, error.Message);

        using var anonymous = servers.Chat.Client(key: null);
        var response = await anonymous.PostAsync("/v1/responses", ModelServer.Json(Body(ScriptedServers.ChatModel)));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static void AssertParis(string? arguments)
    {
        Assert.NotNull(arguments);
        using var doc = JsonDocument.Parse(arguments);
        Assert.Equal("Paris", doc.RootElement.GetProperty("city").GetString());
    }
}

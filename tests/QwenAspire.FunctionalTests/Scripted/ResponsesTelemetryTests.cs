using System.Diagnostics;
using System.Text.Json.Nodes;
using static QwenAspire.FunctionalTests.Scripted.ResponsesHttp;

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>
/// The GenAI span of /v1/responses on the scripted models, whose answers end on their own (eos): finish reasons
/// stop and tool_calls and the token counts the response reports. The demo-model cases are in TelemetryTests.
/// </summary>
[Collection(ScriptedCollection.Name)]
public sealed class ResponsesTelemetryTests(ScriptedServers servers)
{
    private static readonly JsonNode s_weatherTool = JsonNode.Parse("""
        {"type": "function", "name": "get_weather", "strict": true,
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
        """)!;

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task SpanCarriesUsageAndFinishReason(bool tool, bool stream)
    {
        using var spans = new SpanRecorder();
        var (app, model) = tool ? (servers.Tool, ScriptedServers.ToolModel) : (servers.Chat, ScriptedServers.ChatModel);
        var body = new Dictionary<string, object?>
        {
            ["model"] = model,
            ["input"] = "What's the weather in Paris?",
            ["tools"] = tool ? new[] { s_weatherTool } : null,
            ["stream"] = stream,
        };
        JsonObject response = stream ? (await StreamAsync(app, body))[^1]["response"]!.AsObject() : await PostAsync(app, body);
        Assert.Equal("completed", (string?)response["status"]);

        Activity span = await spans.WaitForAsync((string)response["id"]!);
        Assert.Equal($"chat {model}", span.DisplayName);
        Assert.Equal("responses", span.GetTagItem("openai.api.type"));
        Assert.Equal(model, span.GetTagItem("gen_ai.request.model"));
        Assert.Equal((int)response["usage"]!["input_tokens"]!, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal((int)response["usage"]!["output_tokens"]!, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal([tool ? "tool_calls" : "stop"], (string[])span.GetTagItem("gen_ai.response.finish_reasons")!);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }
}

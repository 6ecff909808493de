using System.ComponentModel;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace QwenAspire.Sdk.Tests;

public sealed class RequestMappingTests
{
    [Description("Current weather for a city.")]
    private static string GetWeather([Description("City name")] string city, string unit = "celsius") => $"18 {unit} in {city}";

    [Fact]
    public async Task ChatOptionsBecomeOpenAiFieldsAndExtensionsPassThrough()
    {
        var server = new RecordedServer().Json("chat-reasoning.json");
        using var client = server.CreateClient();
        var options = new ChatOptions
        {
            ModelId = "qwen3-1.7b-lora-rs",
            Temperature = 0.6f,
            TopP = 0.95f,
            TopK = 20,
            MaxOutputTokens = 256,
            StopSequences = ["</answer>", "\n\n\n"],
            Seed = 1234,
            PresencePenalty = 0.5f,
            FrequencyPenalty = 0.25f,
            ResponseFormat = ChatResponseFormat.Text,
            Tools = [AIFunctionFactory.Create(GetWeather, "get_weather")],
            ToolMode = ChatToolMode.Auto,
            Instructions = "Answer briefly.",
            AdditionalProperties = new() { ["min_p"] = 0.05, ["enable_thinking"] = false, ["return_token_ids"] = true },
        };

        await client.GetResponseAsync("Weather in Paris?", options);

        var body = Assert.Single(server.Requests).Json;
        Assert.Equal("qwen3-1.7b-lora-rs", body.GetProperty("model").GetString());
        Assert.Equal(0.6, body.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(0.95, body.GetProperty("top_p").GetDouble(), 3);
        Assert.Equal(20, body.GetProperty("top_k").GetInt32());
        Assert.Equal(256, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal(["</answer>", "\n\n\n"], body.GetProperty("stop").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1234, body.GetProperty("seed").GetInt64());
        Assert.Equal(0.5, body.GetProperty("presence_penalty").GetDouble(), 3);
        Assert.Equal(0.25, body.GetProperty("frequency_penalty").GetDouble(), 3);
        Assert.Equal("text", body.GetProperty("response_format").GetProperty("type").GetString());
        Assert.Equal("auto", body.GetProperty("tool_choice").GetString());
        Assert.Equal(0.05, body.GetProperty("min_p").GetDouble(), 3);
        Assert.False(body.GetProperty("enable_thinking").GetBoolean());
        Assert.True(body.GetProperty("return_token_ids").GetBoolean());

        var tool = Assert.Single(body.GetProperty("tools").EnumerateArray());
        Assert.Equal("function", tool.GetProperty("type").GetString());
        var function = tool.GetProperty("function");
        Assert.Equal("get_weather", function.GetProperty("name").GetString());
        Assert.Equal("Current weather for a city.", function.GetProperty("description").GetString());
        var parameters = function.GetProperty("parameters");
        Assert.Equal("object", parameters.GetProperty("type").GetString());
        Assert.Equal("City name", parameters.GetProperty("properties").GetProperty("city").GetProperty("description").GetString());
        Assert.Equal(["city"], parameters.GetProperty("required").EnumerateArray().Select(e => e.GetString()));

        var messages = body.GetProperty("messages");
        Assert.Equal(("system", "Answer briefly."), (messages[0].GetProperty("role").GetString(), messages[0].GetProperty("content").GetString()));
        Assert.Equal("user", messages[1].GetProperty("role").GetString());
    }

    [Fact]
    public async Task JsonSchemaFormatAndRequiredToolAreSentInOpenAiShape()
    {
        var server = new RecordedServer().Json("chat-reasoning.json");
        using var client = server.CreateClient();
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}""").RootElement;
        var options = new ChatOptions
        {
            ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "answer_schema", "One answer."),
            Tools = [AIFunctionFactory.Create(GetWeather, "get_weather")],
            ToolMode = ChatToolMode.RequireSpecific("get_weather"),
        };

        await client.GetResponseAsync("Weather?", options);

        var body = Assert.Single(server.Requests).Json;
        var format = body.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.Equal("answer_schema", format.GetProperty("json_schema").GetProperty("name").GetString());
        Assert.Equal("string", format.GetProperty("json_schema").GetProperty("schema").GetProperty("properties").GetProperty("answer").GetProperty("type").GetString());
        Assert.Equal("get_weather", body.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
        Assert.False(body.TryGetProperty("temperature", out _));
    }

    [Fact]
    public async Task HistoryWithToolCallsAndResultsUsesToolRoleMessagesWithCallIds()
    {
        var server = new RecordedServer().Json("chat-after-tool.json");
        using var client = server.CreateClient();
        List<ChatMessage> history =
        [
            new(ChatRole.System, "You are helpful."),
            new(ChatRole.User, "Weather in Paris?"),
            new(ChatRole.Assistant, [
                new TextReasoningContent("Look it up."),
                new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }),
            ]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", "18 celsius in Paris")]),
        ];

        await client.GetResponseAsync(history);

        var messages = Assert.Single(server.Requests).Json.GetProperty("messages");
        Assert.Equal(4, messages.GetArrayLength());
        var assistant = messages[2];
        Assert.Equal("assistant", assistant.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, assistant.GetProperty("content").ValueKind);
        Assert.Equal("Look it up.", assistant.GetProperty("reasoning_content").GetString());
        var call = assistant.GetProperty("tool_calls")[0];
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("Paris", JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());
        var tool = messages[3];
        Assert.Equal("tool", tool.GetProperty("role").GetString());
        Assert.Equal("call_1", tool.GetProperty("tool_call_id").GetString());
        Assert.Equal("18 celsius in Paris", tool.GetProperty("content").GetString());
    }

    [Fact]
    public async Task ImageContentIsRefusedWithAClearMessage()
    {
        var server = new RecordedServer();
        using var client = server.CreateClient();
        var message = new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);

        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync([message]));

        Assert.Contains("DataContent", ex.Message);
        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData("http://h:8000", "http://h:8000/v1/chat/completions")]
    [InlineData("http://h:8000/", "http://h:8000/v1/chat/completions")]
    [InlineData("http://h:8000/v1", "http://h:8000/v1/chat/completions")]
    [InlineData("http://h/proxy/qwen/v1/", "http://h/proxy/qwen/v1/chat/completions")]
    public async Task EndpointWithOrWithoutV1ReachesChatCompletions(string endpoint, string expected)
    {
        var server = new RecordedServer().Json("chat-reasoning.json");
        using var client = server.CreateClient(endpoint: endpoint);

        await client.GetResponseAsync("hi");

        Assert.Equal(expected, server.Requests[0].Uri.ToString());
    }

    [Fact]
    public void MissingEndpointIsNamedInTheError()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new QwenChatClient(new QwenClientOptions()));
        Assert.Contains("QwenClientOptions.Endpoint", ex.Message);
    }
}

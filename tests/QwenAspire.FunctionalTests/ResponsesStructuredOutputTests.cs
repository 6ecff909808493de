using System.ClientModel;
using System.Text.Json;
using Json.Schema;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // the SDK marks the Responses client experimental

namespace QwenAspire.FunctionalTests;

/// <summary>text.format json_schema / json_object through the official SDK's Responses client: the chat constraint, reused.</summary>
[Collection(ModelCollection.Name)]
public sealed class ResponsesStructuredOutputTests(ModelServer server)
{
    // Small enough that greedy decoding of the random demo model is forced to finish (bounded whitespace, one boolean).
    private const string FlagSchema = """{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}""";

    private ResponsesClient Client => new(new ApiKeyCredential(TestApp.Key), new ResponsesClientOptions { Endpoint = new Uri(server.App.BaseAddress, "v1") });

    private static CreateResponseOptions Options(ResponseTextFormat format, bool stream = false) =>
        new(ModelServer.Model, [ResponseItem.CreateUserMessageItem("Is it ok?")])
        {
            TextOptions = new ResponseTextOptions { TextFormat = format },
            Temperature = 0f,
            MaxOutputTokenCount = 200,
            StreamingEnabled = stream,
        };

    [Fact]
    public async Task JsonSchemaFormatOutputValidates()
    {
        var format = ResponseTextFormat.CreateJsonSchemaFormat("flag", BinaryData.FromString(FlagSchema), jsonSchemaIsStrict: true);
        ResponseResult response = await Client.CreateResponseAsync(Options(format));
        Assert.Equal(ResponseStatus.Completed, response.Status);
        using var doc = JsonDocument.Parse(response.GetOutputText());
        Assert.True(JsonSchema.FromText(FlagSchema).Evaluate(doc.RootElement).IsValid, response.GetOutputText());
        Assert.DoesNotContain(response.OutputItems, i => i is ReasoningResponseItem); // JSON output renders with thinking off
    }

    [Fact]
    public async Task JsonSchemaFormatStreamsOneValidObject()
    {
        var format = ResponseTextFormat.CreateJsonSchemaFormat("flag", BinaryData.FromString(FlagSchema), jsonSchemaIsStrict: true);
        var text = new System.Text.StringBuilder();
        await foreach (var update in Client.CreateResponseStreamingAsync(Options(format, stream: true)))
            if (update is StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
        using var doc = JsonDocument.Parse(text.ToString());
        Assert.True(JsonSchema.FromText(FlagSchema).Evaluate(doc.RootElement).IsValid, text.ToString());
    }

    [Fact]
    public async Task JsonObjectFormatConstrainsTheOutput()
    {
        // Free-form JSON from a random model need not finish in a few tokens; what it writes must still start an object.
        var options = Options(ResponseTextFormat.CreateJsonObjectFormat());
        options.MaxOutputTokenCount = 4;
        ResponseResult response = await Client.CreateResponseAsync(options);
        Assert.Equal(ResponseStatus.Incomplete, response.Status);
        Assert.StartsWith("{", response.GetOutputText());
    }

    [Fact]
    public async Task UnsupportedSchemaIsA400NamingTextFormat()
    {
        var format = ResponseTextFormat.CreateJsonSchemaFormat("bad", BinaryData.FromString("""{"type":"object","patternProperties":{"a":{}}}"""), jsonSchemaIsStrict: true);
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client.CreateResponseAsync(Options(format)));
        Assert.Equal(400, error.Status);
        Assert.Contains("text.format", error.Message);
    }
    [Fact]
    public async Task RequiredToolChoiceForcesValidFunctionCallsThatStream()
    {
        // The random model never calls a tool by itself: a call whose arguments validate comes from the grammar.
        var options = new CreateResponseOptions(ModelServer.Model, [ResponseItem.CreateUserMessageItem("What's the weather in Paris?")])
        {
            Temperature = 1f,
            MaxOutputTokenCount = 400,
            ToolChoice = ResponseToolChoice.CreateRequiredChoice(),
            ParallelToolCallsEnabled = false,
            StreamingEnabled = true,
        };
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString(ForcedToolCallTests.WeatherSchema), strictModeEnabled: true, "Weather forecast"));
        var arguments = new System.Text.StringBuilder();
        ResponseResult? completed = null;
        await foreach (var update in Client.CreateResponseStreamingAsync(options))
        {
            if (update is StreamingResponseFunctionCallArgumentsDeltaUpdate delta) arguments.Append(delta.Delta);
            if (update is StreamingResponseCompletedUpdate done) completed = done.Response;
        }
        Assert.NotNull(completed);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(completed.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal(call.FunctionArguments.ToString(), arguments.ToString()); // the deltas concatenate to the arguments
        using var doc = JsonDocument.Parse(call.FunctionArguments.ToString());
        Assert.True(JsonSchema.FromText(ForcedToolCallTests.WeatherSchema).Evaluate(doc.RootElement).IsValid, call.FunctionArguments.ToString());
    }

    [Fact]
    public async Task NamedFunctionToolChoiceCallsThatFunction()
    {
        var options = new CreateResponseOptions(ModelServer.Model, [ResponseItem.CreateUserMessageItem("What time is it?")])
        {
            Temperature = 1f,
            MaxOutputTokenCount = 400,
            ToolChoice = ResponseToolChoice.CreateFunctionChoice("get_time"),
        };
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString(ForcedToolCallTests.WeatherSchema), strictModeEnabled: true, "Weather forecast"));
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_time", BinaryData.FromString(ForcedToolCallTests.TimeSchema), strictModeEnabled: true, "Local time"));
        ResponseResult response = await Client.CreateResponseAsync(options);
        Assert.Equal(ResponseStatus.Completed, response.Status);
        var calls = response.OutputItems.OfType<FunctionCallResponseItem>().ToList();
        Assert.NotEmpty(calls);
        Assert.All(calls, c => Assert.Equal("get_time", c.FunctionName));
        Assert.DoesNotContain(response.OutputItems, i => i is ReasoningResponseItem); // a forced call renders with thinking off
    }

    [Fact]
    public async Task ForcedToolChoiceWithAJsonFormatIsA400()
    {
        // One grammar per request, as in chat: the forced call must not silently replace the JSON constraint.
        var options = Options(ResponseTextFormat.CreateJsonObjectFormat());
        options.ToolChoice = ResponseToolChoice.CreateRequiredChoice();
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_time", BinaryData.FromString(ForcedToolCallTests.TimeSchema), strictModeEnabled: true, "Local time"));
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client.CreateResponseAsync(options));
        Assert.Equal(400, error.Status);
        Assert.Contains("tool_choice", error.Message);
        Assert.Contains("text.format", error.Message);
    }
}

using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // the SDK marks the Responses client experimental

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>
/// /v1/responses through the official OpenAI .NET SDK's <see cref="ResponsesClient"/> and MEAI's Responses chat
/// client (<c>ResponsesClient.AsIChatClient</c>), against the scripted models (thinking + "Hello!", a get_weather call).
/// MEAI's streaming path is in <see cref="MeaiResponsesStreamingTests"/>.
/// </summary>
[Collection(ScriptedCollection.Name)]
public sealed class ResponsesSdkTests(ScriptedServers servers)
{
    private static readonly BinaryData s_weatherParameters = BinaryData.FromString(
        """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""");

    private static ResponsesClient Client(TestApp app) =>
        new(new ApiKeyCredential(TestApp.Key), new ResponsesClientOptions { Endpoint = new Uri(app.BaseAddress, "v1") });

    [Fact]
    public async Task SdkReadsReasoningAndTextOfANonStreamingResponse()
    {
        ResponseResult response = await Client(servers.Chat).CreateResponseAsync(ScriptedServers.ChatModel, "Say hello.");
        Assert.StartsWith("resp_", response.Id);
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal(ScriptedServers.Answer, response.GetOutputText());
        var reasoning = Assert.IsType<ReasoningResponseItem>(response.OutputItems[0]);
        Assert.Equal(ScriptedServers.Reasoning, reasoning.GetSummaryText());
        var message = Assert.IsAssignableFrom<MessageResponseItem>(response.OutputItems[1]);
        Assert.Equal(MessageRole.Assistant, message.Role);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        Assert.True(response.Usage.OutputTokenDetails.ReasoningTokenCount > 0);
    }

    [Fact]
    public async Task SdkStreamsReasoningAndTextUpdates()
    {
        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in Client(servers.Chat).CreateResponseStreamingAsync(ScriptedServers.ChatModel, "Say hello."))
            updates.Add(update);
        Assert.IsType<StreamingResponseCreatedUpdate>(updates[0]);
        Assert.Equal(Enumerable.Range(0, updates.Count), updates.Select(u => u.SequenceNumber));
        Assert.Equal(ScriptedServers.Reasoning, string.Concat(updates.OfType<StreamingResponseReasoningTextDeltaUpdate>().Select(u => u.Delta)));
        Assert.Equal(ScriptedServers.Answer, string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta)));
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal(ScriptedServers.Answer, completed.Response.GetOutputText());
    }

    [Fact]
    public async Task SdkFunctionCallRoundTrip()
    {
        var options = new CreateResponseOptions(ScriptedServers.ToolModel, [ResponseItem.CreateUserMessageItem("What's the weather in Paris?")]);
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", s_weatherParameters, strictModeEnabled: true, "Weather for a city"));
        ResponseResult first = await Client(servers.Tool).CreateResponseAsync(options);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments.ToString()).RootElement.GetProperty("city").GetString());

        // Stateless: the call and its output go back as input items (the chat model then answers).
        var second = new CreateResponseOptions(ScriptedServers.ChatModel,
            [ResponseItem.CreateUserMessageItem("What's the weather in Paris?"), call, ResponseItem.CreateFunctionCallOutputItem(call.CallId, "Sunny, 21 °C")]);
        second.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", s_weatherParameters, strictModeEnabled: true, "Weather for a city"));
        ResponseResult answer = await Client(servers.Chat).CreateResponseAsync(second);
        Assert.Equal(ScriptedServers.Answer, answer.GetOutputText());
    }

    [Fact]
    public async Task SdkSeesErrorStatuses()
    {
        var notFound = await Assert.ThrowsAsync<ClientResultException>(() => Client(servers.Chat).CreateResponseAsync("no-such-model", "hi"));
        Assert.Equal(404, notFound.Status);
        var options = new CreateResponseOptions(ScriptedServers.ChatModel, [ResponseItem.CreateUserMessageItem("hi")]) { Temperature = 5f };
        var bad = await Assert.ThrowsAsync<ClientResultException>(() => Client(servers.Chat).CreateResponseAsync(options));
        Assert.Equal(400, bad.Status);
        Assert.Contains("temperature", bad.Message);
    }

    [Fact]
    public async Task MeaiResponsesChatClientAnswersWithReasoning()
    {
        using IChatClient chat = Client(servers.Chat).AsIChatClient(ScriptedServers.ChatModel);
        ChatResponse response = await chat.GetResponseAsync("Say hello.");
        Assert.Equal(ScriptedServers.Answer, response.Text);
        Assert.Equal(ScriptedServers.Reasoning, string.Concat(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>().Select(r => r.Text)));
        Assert.Null(response.ConversationId); // store: false in the answer keeps MEAI stateless
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason ?? ChatFinishReason.Stop);
    }

    [Fact]
    public async Task MeaiFunctionInvokingClientRunsTheToolAndSendsItsOutputBack()
    {
        var cities = new List<string>();
        var tool = AIFunctionFactory.Create((string city) => { cities.Add(city); return "Sunny, 21 °C"; }, "get_weather", "Weather for a city");
        // The scripted tool model asks for the weather every turn, so one round trip is all the loop may run.
        using IChatClient chat = new ChatClientBuilder(Client(servers.Tool).AsIChatClient(ScriptedServers.ToolModel))
            .UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 1)
            .Build();
        ChatResponse response = await chat.GetResponseAsync("What's the weather in Paris?", new ChatOptions { Tools = [tool] });
        Assert.Equal(["Paris"], cities);
        var results = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToList();
        Assert.Equal("Sunny, 21 °C", results[0].Result?.ToString());
        // The second request carried the function_call and function_call_output items and was answered.
        Assert.True(response.Messages.Count >= 3, string.Join(" | ", response.Messages.Select(m => $"{m.Role}: {string.Join(",", m.Contents.Select(c => c.GetType().Name))}")));
    }
}

using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // the SDK marks the Responses client experimental

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>
/// MEAI's Responses chat client (<c>ResponsesClient.AsIChatClient</c>) streaming from /v1/responses: reasoning deltas
/// become <see cref="TextReasoningContent"/>, text deltas <see cref="TextContent"/>, and a function call streamed as
/// argument deltas is run by <see cref="FunctionInvokingChatClient"/> and its output sent back.
/// </summary>
[Collection(ScriptedCollection.Name)]
public sealed class MeaiResponsesStreamingTests(ScriptedServers servers)
{
    private static IChatClient Chat(TestApp app, string model) =>
        new ResponsesClient(new ApiKeyCredential(TestApp.Key), new ResponsesClientOptions { Endpoint = new Uri(app.BaseAddress, "v1") })
            .AsIChatClient(model);

    [Fact]
    public async Task StreamingUpdatesCarryReasoningThenText()
    {
        using IChatClient chat = Chat(servers.Chat, ScriptedServers.ChatModel);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("Say hello."))
            updates.Add(update);

        var contents = updates.SelectMany(u => u.Contents).ToList();
        Assert.Equal(ScriptedServers.Reasoning, string.Concat(contents.OfType<TextReasoningContent>().Select(r => r.Text)));
        Assert.Equal(ScriptedServers.Answer, string.Concat(contents.OfType<TextContent>().Select(t => t.Text)));
        // Thinking comes before the answer, as it was generated.
        int lastReasoning = contents.FindLastIndex(c => c is TextReasoningContent r && r.Text.Length > 0);
        int firstText = contents.FindIndex(c => c is TextContent t && t.Text.Length > 0);
        Assert.True(lastReasoning < firstText, $"reasoning at {lastReasoning}, text at {firstText}");
        Assert.All(updates.Where(u => u.ResponseId is not null), u => Assert.StartsWith("resp_", u.ResponseId));

        ChatResponse whole = updates.ToChatResponse();
        Assert.Equal(ScriptedServers.Answer, whole.Text);
        Assert.Null(whole.ConversationId); // store: false keeps MEAI stateless
        Assert.Equal(ChatFinishReason.Stop, whole.FinishReason);
        var usage = Assert.Single(contents.OfType<UsageContent>()).Details;
        Assert.True(usage.InputTokenCount > 0);
        Assert.Equal(usage.InputTokenCount + usage.OutputTokenCount, usage.TotalTokenCount);
    }

    [Fact]
    public async Task StreamingRespectsMaxOutputTokens()
    {
        using IChatClient chat = Chat(servers.Chat, ScriptedServers.ChatModel);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("Say hello.", new ChatOptions { MaxOutputTokens = 2 }))
            updates.Add(update);
        // MEAI 11 maps response.incomplete to no FinishReason or UsageContent while streaming (only response.completed
        // gets them), so the cut is read from the raw event it passes through.
        var incomplete = Assert.IsType<StreamingResponseIncompleteUpdate>(updates[^1].RawRepresentation);
        Assert.Equal(ResponseIncompleteStatusReason.MaxOutputTokens, incomplete.Response.IncompleteStatusDetails.Reason);
        Assert.Equal(2, incomplete.Response.Usage.OutputTokenCount);
        Assert.Empty(updates.SelectMany(u => u.Contents).OfType<TextContent>()); // two tokens end inside the thinking
        Assert.NotEmpty(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>());
    }

    [Fact]
    public async Task StreamingFunctionCallRoundTripThroughFunctionInvokingChatClient()
    {
        var cities = new List<string>();
        var tool = AIFunctionFactory.Create((string city) => { cities.Add(city); return "Sunny, 21 °C"; }, "get_weather", "Weather for a city");
        // The scripted tool model asks for the weather every turn; with one iteration allowed, MEAI runs the tool once and
        // sends its last request (call + output as input items) without tools, so that answer is plain text.
        using IChatClient chat = new ChatClientBuilder(Chat(servers.Tool, ScriptedServers.ToolModel))
            .UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 1)
            .Build();
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("What's the weather in Paris?", new ChatOptions { Tools = [tool] }))
            updates.Add(update);

        Assert.Equal(["Paris"], cities);
        var contents = updates.SelectMany(u => u.Contents).ToList();
        var call = Assert.Single(contents.OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.StartsWith("call_", call.CallId);
        Assert.Equal("Paris", call.Arguments?["city"]?.ToString());
        // The arguments arrived as several deltas before the item was done (the streaming tool-call parser).
        Assert.True(updates.Count(u => u.RawRepresentation is StreamingResponseFunctionCallArgumentsDeltaUpdate) > 1);
        var result = Assert.Single(contents.OfType<FunctionResultContent>());
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal("Sunny, 21 °C", result.Result?.ToString());

        var finished = updates.Where(u => u.FinishReason is not null).ToList();
        Assert.Equal([ChatFinishReason.ToolCalls, ChatFinishReason.Stop], finished.Select(u => u.FinishReason!.Value));
        Assert.NotEqual(finished[0].ResponseId, finished[1].ResponseId); // two requests, two responses
    }
}

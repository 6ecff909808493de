using System.ClientModel;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using OpenAI;
using OpenAI.Chat;
using QwenAspire.FunctionalTests.Sdk;

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>The client libraries against the scripted model: they must see "Hello!" and, where they model it, the reasoning.</summary>
[Collection(ScriptedCollection.Name)]
public sealed class ScriptedClientTests(ScriptedServers servers)
{
    private static string Reasoning(IEnumerable<AIContent> contents) =>
        string.Concat(contents.OfType<TextReasoningContent>().Select(r => r.Text));

    [Fact]
    public async Task OpenAiSdkSeesTheAnswerAndStop()
    {
        var chat = new ChatClient(ScriptedServers.ChatModel, new ApiKeyCredential(TestApp.Key),
            new OpenAIClientOptions { Endpoint = new Uri(servers.Chat.BaseAddress, "v1") });
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Say hello.")]);
        Assert.Equal(ScriptedServers.Answer, Assert.Single(completion.Content).Text);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, completion.FinishReason);

        var streamed = new StringBuilder();
        OpenAI.Chat.ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Say hello.")]))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(ScriptedServers.Answer, streamed.ToString());
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, finish);
    }

    [Fact]
    public async Task SdkChatClientSurfacesTextReasoningContent()
    {
        using var client = SdkChatClientLiveTests.Client(servers.Chat);
        var response = await client.GetResponseAsync("Say hello.");
        Assert.Equal(ScriptedServers.Answer, response.Text);
        Assert.Equal(ScriptedServers.Reasoning, Reasoning(Assert.Single(response.Messages).Contents));
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(10, response.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task SdkChatClientStreamsTextReasoningContentBeforeText()
    {
        using var client = SdkChatClientLiveTests.Client(servers.Chat);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Say hello."))
            updates.Add(update);

        var contents = updates.SelectMany(u => u.Contents).Where(c => c is Microsoft.Extensions.AI.TextContent { Text.Length: > 0 } or TextReasoningContent { Text.Length: > 0 }).ToList();
        Assert.True(contents.Count(c => c is TextReasoningContent) > 1, "reasoning arrives token by token");
        Assert.True(contents.FindLastIndex(c => c is TextReasoningContent) < contents.FindIndex(c => c is Microsoft.Extensions.AI.TextContent), "reasoning precedes the answer");
        var streamed = updates.ToChatResponse();
        Assert.Equal(ScriptedServers.Answer, streamed.Text);
        Assert.Equal(ScriptedServers.Reasoning, Reasoning(streamed.Messages.SelectMany(m => m.Contents)));
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Stop, streamed.FinishReason);
    }

    [Fact]
    public async Task SemanticKernelStreamingReturnsTheAnswer()
    {
        var builder = Kernel.CreateBuilder();
        builder.AddQwenChatCompletion(o =>
        {
            o.Endpoint = servers.Chat.BaseAddress;
            o.ApiKey = TestApp.Key;
            o.Model = ScriptedServers.ChatModel;
            o.Timeout = TimeSpan.FromMinutes(2);
        });
        var chat = builder.Build().GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory();
        history.AddUserMessage("Say hello.");

        var text = new StringBuilder();
        await foreach (var chunk in chat.GetStreamingChatMessageContentsAsync(history))
            text.Append(chunk.Content);
        Assert.Equal(ScriptedServers.Answer, text.ToString());

        var result = await builder.Build().InvokePromptAsync("Say hello.");
        Assert.Equal(ScriptedServers.Answer, result.GetValue<string>());
    }
}

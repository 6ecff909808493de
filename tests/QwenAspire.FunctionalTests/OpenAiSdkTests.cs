using System.ClientModel;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace QwenAspire.FunctionalTests;

/// <summary>The official OpenAI .NET SDK (2.15.0) against the real server.</summary>
[Collection(ModelCollection.Name)]
public sealed class OpenAiSdkTests(ModelServer server)
{
    private OpenAIClientOptions Options => new() { Endpoint = new Uri(server.App.BaseAddress, "v1") };

    private ChatClient Chat => new(ModelServer.Model, new ApiKeyCredential(TestApp.Key), Options);

    private static ChatCompletionOptions Short => new() { MaxOutputTokenCount = 8, Temperature = 0f };

    [Fact]
    public async Task ChatCompletionParsesWithUsage()
    {
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("你好，介绍一下你自己")], Short);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal(8, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 5);
        Assert.Equal(completion.Usage.InputTokenCount + 8, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task StreamingChatEndsWithFinishReasonAndUsage()
    {
        var options = Short; // the SDK asks for include_usage on its own
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("Hi")], options))
            updates.Add(update);
        Assert.Contains(updates, u => u.Role == ChatMessageRole.Assistant);
        Assert.Equal(ChatFinishReason.Length, updates.Last(u => u.FinishReason is not null).FinishReason);
        var usage = updates.Last(u => u.Usage is not null).Usage;
        Assert.Equal(8, usage.OutputTokenCount);
    }

    [Fact]
    public async Task StreamingAndNonStreamingGreedyAnswersAgree()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 10, Temperature = 0f };
        ChatCompletion whole = await Chat.CompleteChatAsync([new UserChatMessage("Count to three.")], options);
        var streamed = new System.Text.StringBuilder();
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("Count to three.")], options))
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
        Assert.Equal(whole.Content.Count == 0 ? "" : whole.Content[0].Text, streamed.ToString());
    }

    [Fact]
    public async Task ModelsListTheServedModel()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential(TestApp.Key), Options);
        OpenAIModelCollection list = await models.GetModelsAsync();
        Assert.Contains(list, m => m.Id == ModelServer.Model);
        OpenAIModel one = await models.GetModelAsync(ModelServer.Model);
        Assert.Equal("qwen-aspire", one.OwnedBy);
    }

    [Fact]
    public async Task WrongKeyIsReportedByTheSdkAs401()
    {
        var chat = new ChatClient(ModelServer.Model, new ApiKeyCredential("sk-wrong"), Options);
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("x")], Short));
        Assert.Equal(401, ex.Status);
    }
}

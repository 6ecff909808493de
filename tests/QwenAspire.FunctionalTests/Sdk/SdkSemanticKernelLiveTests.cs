using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace QwenAspire.FunctionalTests.Sdk;

/// <summary>The SDK's Semantic Kernel face (<c>AddQwenChatCompletion</c>) against the real InferenceApi on loopback.</summary>
[Collection(ModelCollection.Name)]
public sealed class SdkSemanticKernelLiveTests(ModelServer server)
{
    private const string Prompt = "What is the capital of France?";

    private Kernel CreateKernel()
    {
        var builder = Kernel.CreateBuilder();
        builder.AddQwenChatCompletion(o =>
        {
            o.Endpoint = server.App.BaseAddress;
            o.ApiKey = TestApp.Key;
            o.Model = ModelServer.Model;
            o.Timeout = TimeSpan.FromMinutes(2);
        });
        return builder.Build();
    }

    /// <summary>SK's names for the settings (the IChatClient bridge maps them to ChatOptions; the rest pass through).</summary>
    private static PromptExecutionSettings Greedy() => new()
    {
        ExtensionData = new Dictionary<string, object>
        {
            ["max_tokens"] = 6,
            ["temperature"] = 0.0,
            ["ignore_eos"] = true,
            ["enable_thinking"] = false,
        },
    };

    /// <summary>The same request through the MEAI face, as the reference answer.</summary>
    private async Task<ChatResponse> ReferenceAsync()
    {
        using var client = SdkChatClientLiveTests.Client(server.App);
        var options = SdkChatClientLiveTests.Greedy();
        options.ModelId = ModelServer.Model;
        return await client.GetResponseAsync(Prompt, options);
    }

    [Fact]
    public async Task InvokePromptReturnsTheModelsGreedyAnswer()
    {
        var reference = await ReferenceAsync();
        var kernel = CreateKernel();

        var result = await kernel.InvokePromptAsync(Prompt, new KernelArguments(Greedy()));

        Assert.Equal(reference.Text, result.GetValue<string>());
        var message = result.GetValue<ChatMessageContent>();
        Assert.NotNull(message);
        Assert.Equal(AuthorRole.Assistant, message.Role);
        Assert.Equal(ModelServer.Model, message.ModelId);
    }

    [Fact]
    public async Task StreamingChatMessageContentsArriveInPiecesAndAddUpToTheAnswer()
    {
        var reference = await ReferenceAsync();
        var chat = CreateKernel().GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory();
        history.AddUserMessage(Prompt);

        var text = new StringBuilder();
        int pieces = 0;
        await foreach (var chunk in chat.GetStreamingChatMessageContentsAsync(history, Greedy()))
        {
            if (string.IsNullOrEmpty(chunk.Content)) continue;
            pieces++;
            text.Append(chunk.Content);
        }

        Assert.True(pieces > 1, $"expected several streamed pieces, got {pieces}");
        Assert.Equal(reference.Text, text.ToString());
    }
}

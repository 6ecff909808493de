using System.ClientModel;
using System.Text.Json;
using Json.Schema;
using OpenAI;
using OpenAI.Chat;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.FunctionalTests;

/// <summary>Structured output and logit_bias as the official OpenAI .NET SDK sends them (what Semantic Kernel and MEAI use).</summary>
[Collection(ModelCollection.Name)]
public sealed class OpenAiSdkStructuredOutputTests(ModelServer server)
{
    private const string PersonSchema =
        """{"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},"required":["name","age","tags"],"additionalProperties":false}""";

    private ChatClient Chat => new(ModelServer.Model, new ApiKeyCredential(TestApp.Key),
        new OpenAIClientOptions { Endpoint = new Uri(server.App.BaseAddress, "v1") });

    private static ChatCompletionOptions Options(ChatResponseFormat format, long seed)
    {
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; the server honours it, and it keeps the test reproducible
        var options = new ChatCompletionOptions { ResponseFormat = format, Temperature = 1f, Seed = seed, MaxOutputTokenCount = 300 };
#pragma warning restore OPENAI001
        var tokenizer = Qwen3Tokenizer.LoadEmbedded();
        // The SDK's logit_bias is int-valued; a quote and closing brackets stand in for a model that means to finish.
        foreach (var (text, bias) in new[] { ("\"", 12), ("}", 8), ("]", 8) }) options.LogitBiases[tokenizer.TokenToId(text)!.Value] = bias;
        return options;
    }

    [Fact]
    public async Task JsonSchemaFormatFromTheSdkValidates()
    {
        var format = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema), jsonSchemaIsStrict: true);
        var validator = JsonSchema.FromText(PersonSchema);
        for (var seed = 0; seed < 4; seed++)
        {
            ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Give me a person.")], Options(format, seed));
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            using var doc = JsonDocument.Parse(completion.Content[0].Text);
            Assert.True(validator.Evaluate(doc.RootElement).IsValid, completion.Content[0].Text);
        }
    }

    [Fact]
    public async Task JsonObjectFormatStreamsOneObject()
    {
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("JSON please")], Options(ChatResponseFormat.CreateJsonObjectFormat(), 9)))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(ChatFinishReason.Stop, finish);
        using var doc = JsonDocument.Parse(text.ToString());
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.Sdk.Wire;

/// <summary>A non-streaming answer (<c>object: chat.completion</c>) or one stream chunk (<c>chat.completion.chunk</c>).</summary>
internal sealed class ChatCompletionResponse
{
    public string? Id { get; set; }
    public string? Object { get; set; }
    public long? Created { get; set; }
    public string? Model { get; set; }
    public List<WireChoice>? Choices { get; set; }
    public WireUsage? Usage { get; set; }

    /// <summary><c>return_token_ids</c> extension (vLLM shape).</summary>
    public List<int>? PromptTokenIds { get; set; }

    /// <summary>Set instead of everything else when the server sends an error event inside a stream.</summary>
    public WireError? Error { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

internal sealed class WireChoice
{
    public int Index { get; set; }

    /// <summary>Non-streaming answers.</summary>
    public WireMessage? Message { get; set; }

    /// <summary>Stream chunks.</summary>
    public WireMessage? Delta { get; set; }
    public string? FinishReason { get; set; }
    public List<int>? TokenIds { get; set; }
}

internal sealed class WireUsage
{
    public int? PromptTokens { get; set; }
    public int? CompletionTokens { get; set; }
    public int? TotalTokens { get; set; }
    public WireCompletionTokensDetails? CompletionTokensDetails { get; set; }
    public WirePromptTokensDetails? PromptTokensDetails { get; set; }
}

internal sealed class WireCompletionTokensDetails
{
    public int? ReasoningTokens { get; set; }
}

internal sealed class WirePromptTokensDetails
{
    public int? CachedTokens { get; set; }
}

internal sealed class ErrorEnvelope
{
    public WireError? Error { get; set; }
}

internal sealed class WireError
{
    public string? Message { get; set; }
    public string? Type { get; set; }
    public string? Param { get; set; }

    /// <summary>OpenAI sends a string; some servers send a number or null.</summary>
    public JsonElement? Code { get; set; }
}

internal sealed class ModelList
{
    public List<ModelCard>? Data { get; set; }
}

internal sealed class ModelCard
{
    public string Id { get; set; } = string.Empty;
    public string? OwnedBy { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(Dictionary<string, object?>))]
internal sealed partial class QwenJsonContext : JsonSerializerContext;

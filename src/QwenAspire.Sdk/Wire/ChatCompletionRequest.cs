using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.Sdk.Wire;

/// <summary>Body of <c>POST /v1/chat/completions</c> (OpenAI shape plus the server's extensions).</summary>
internal sealed class ChatCompletionRequest
{
    public required string Model { get; set; }
    public required List<WireMessage> Messages { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public int? MaxTokens { get; set; }
    public float? PresencePenalty { get; set; }
    public float? FrequencyPenalty { get; set; }
    public List<string>? Stop { get; set; }
    public long? Seed { get; set; }
    public WireResponseFormat? ResponseFormat { get; set; }
    public List<WireTool>? Tools { get; set; }

    /// <summary>A string (<c>none</c>/<c>auto</c>/<c>required</c>) or <c>{"type":"function","function":{"name":…}}</c>.</summary>
    public JsonElement? ToolChoice { get; set; }
    public bool? ParallelToolCalls { get; set; }
    public bool? Stream { get; set; }
    public WireStreamOptions? StreamOptions { get; set; }

    /// <summary>Anything from <c>ChatOptions.AdditionalProperties</c> (min_p, enable_thinking, return_token_ids, …).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

internal sealed class WireMessage
{
    public string? Role { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Content { get; set; }
    public string? Name { get; set; }
    public string? ReasoningContent { get; set; }
    public List<WireToolCall>? ToolCalls { get; set; }
    public string? ToolCallId { get; set; }
}

internal sealed class WireToolCall
{
    /// <summary>Only in stream deltas: which tool call a fragment belongs to.</summary>
    public int? Index { get; set; }
    public string? Id { get; set; }
    public string? Type { get; set; }
    public WireFunctionCall? Function { get; set; }
}

internal sealed class WireFunctionCall
{
    public string? Name { get; set; }

    /// <summary>JSON text of the arguments (a fragment of it in stream deltas).</summary>
    public string? Arguments { get; set; }
}

internal sealed class WireTool
{
    public string Type { get; set; } = "function";
    public required WireFunctionDefinition Function { get; set; }
}

internal sealed class WireFunctionDefinition
{
    public required string Name { get; set; }
    public string? Description { get; set; }
    public JsonElement? Parameters { get; set; }
    public bool? Strict { get; set; }
}

internal sealed class WireResponseFormat
{
    public required string Type { get; set; }
    public WireJsonSchema? JsonSchema { get; set; }
}

internal sealed class WireJsonSchema
{
    public required string Name { get; set; }
    public string? Description { get; set; }
    public JsonElement? Schema { get; set; }
    public bool? Strict { get; set; }
}

internal sealed class WireStreamOptions
{
    public bool IncludeUsage { get; set; }
}

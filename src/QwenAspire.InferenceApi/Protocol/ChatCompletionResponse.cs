using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>Non-streaming chat answer (<c>"object":"chat.completion"</c>, which Dify's connection test requires).</summary>
public sealed record ChatCompletionResponse
{
    public required string Id { get; init; }
    public string Object { get; init; } = "chat.completion";
    public required long Created { get; init; }
    public required string Model { get; init; }
    public required IReadOnlyList<ChatChoice> Choices { get; init; }
    public required UsageInfo Usage { get; init; }
    /// <summary>vLLM extension (return_token_ids).</summary>
    public IReadOnlyList<int>? PromptTokenIds { get; init; }
}

public sealed record ChatChoice
{
    public required int Index { get; init; }
    public required ChatResponseMessage Message { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public ChatLogprobs? Logprobs { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? FinishReason { get; init; }
    /// <summary>The stop string that ended generation, when one did (vLLM's stop_reason).</summary>
    public string? StopReason { get; init; }
    public IReadOnlyList<int>? TokenIds { get; init; }
}

public sealed record ChatResponseMessage
{
    public string Role { get; init; } = "assistant";
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Content { get; init; }
    /// <summary>
    /// The thinking text, under both names clients read: <c>reasoning_content</c> (DeepSeek's, vLLM before 0.10,
    /// Dify) and <c>reasoning</c> (vLLM's current name, OpenRouter, some SDKs).
    /// </summary>
    public string? ReasoningContent { get; init; }
    public string? Reasoning => ReasoningContent;
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }
}

public sealed record ToolCall(string Id, FunctionCall Function)
{
    public string Type { get; init; } = "function";
}

public sealed record FunctionCall(string Name, string Arguments);

public sealed record UsageInfo(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);

public sealed record ChatTokenLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<ChatTopLogprob> TopLogprobs);

public sealed record ChatTopLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes);

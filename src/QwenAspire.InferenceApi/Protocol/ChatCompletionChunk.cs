using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// One SSE event of a streamed chat answer. <c>choices</c> is always present (an empty list on the usage
/// chunk): Dify indexes <c>chunk["choices"]</c> without checking.
/// </summary>
public sealed record ChatCompletionChunk
{
    public required string Id { get; init; }
    public string Object { get; init; } = "chat.completion.chunk";
    public required long Created { get; init; }
    public required string Model { get; init; }
    public required IReadOnlyList<ChatChunkChoice> Choices { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public UsageInfo? Usage { get; init; }
    public IReadOnlyList<int>? PromptTokenIds { get; init; }
}

public sealed record ChatChunkChoice
{
    public required int Index { get; init; }
    public required ChatDelta Delta { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public ChatLogprobs? Logprobs { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? FinishReason { get; init; }
    public string? StopReason { get; init; }
    public IReadOnlyList<int>? TokenIds { get; init; }
}

public sealed record ChatDelta
{
    public string? Role { get; init; }
    public string? Content { get; init; }
    /// <summary>The thinking text; sent twice, as <c>reasoning_content</c> and <c>reasoning</c>, see <see cref="ChatResponseMessage"/>.</summary>
    public string? ReasoningContent { get; init; }
    public string? Reasoning => ReasoningContent;
    public IReadOnlyList<ToolCallDelta>? ToolCalls { get; init; }
}

/// <summary>A streamed tool call: the first fragment carries id, type and name; later ones argument text, by index.</summary>
public sealed record ToolCallDelta
{
    public required int Index { get; init; }
    public string? Id { get; init; }
    public string? Type { get; init; }
    public required FunctionCallDelta Function { get; init; }
}

public sealed record FunctionCallDelta
{
    public string? Name { get; init; }
    public string? Arguments { get; init; }
}

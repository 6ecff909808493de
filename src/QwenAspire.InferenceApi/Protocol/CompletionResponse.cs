using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>/v1/completions answer; the same shape (with <c>usage</c> null until the end) is each stream event.</summary>
public sealed record CompletionResponse
{
    public required string Id { get; init; }
    public string Object { get; init; } = "text_completion";
    public required long Created { get; init; }
    public required string Model { get; init; }
    public required IReadOnlyList<CompletionChoice> Choices { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public UsageInfo? Usage { get; init; }
}

public sealed record CompletionChoice
{
    public required int Index { get; init; }
    public required string Text { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public CompletionLogprobs? Logprobs { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? FinishReason { get; init; }
    public string? StopReason { get; init; }
    public IReadOnlyList<int>? PromptTokenIds { get; init; }
    public IReadOnlyList<int>? TokenIds { get; init; }
}

/// <summary>Legacy logprobs; with echo they cover the prompt too, whose first token has null logprob and top_logprobs.</summary>
public sealed record CompletionLogprobs(
    IReadOnlyList<string> Tokens,
    IReadOnlyList<float?> TokenLogprobs,
    IReadOnlyList<Dictionary<string, float>?> TopLogprobs,
    IReadOnlyList<int> TextOffset);

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>The Response object (non-streaming body, and inside response.created/in_progress/completed events).</summary>
public sealed class ResponseObject
{
    public required string Id { get; init; }
    public string Object { get; init; } = "response";
    public long CreatedAt { get; init; }
    /// <summary>in_progress | completed | incomplete | failed.</summary>
    public required string Status { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ResponseErrorInfo? Error { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ResponseIncompleteDetails? IncompleteDetails { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Instructions { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int? MaxOutputTokens { get; init; }
    public required string Model { get; init; }
    public List<ResponseOutputItem> Output { get; set; } = [];
    public bool ParallelToolCalls { get; init; } = true;
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? PreviousResponseId { get; init; }
    public ResponseReasoningInfo Reasoning { get; init; } = new();
    /// <summary>Always false: nothing is stored, whatever the request said.</summary>
    public bool Store { get; init; }
    public float? Temperature { get; init; }
    public JsonObject Text { get; init; } = new() { ["format"] = new JsonObject { ["type"] = "text" } };
    public JsonNode ToolChoice { get; init; } = "auto";
    public JsonArray Tools { get; init; } = [];
    public float? TopP { get; init; }
    public string Truncation { get; init; } = "disabled";
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ResponseUsage? Usage { get; set; }
    public string? User { get; init; }
    public JsonObject Metadata { get; init; } = [];
}

public sealed record ResponseErrorInfo(string Code, string Message);

/// <summary>reason: max_output_tokens (the only one this server produces).</summary>
public sealed record ResponseIncompleteDetails(string Reason);

public sealed class ResponseReasoningInfo
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Effort { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Summary { get; init; }
}

public sealed record ResponseUsage(int InputTokens, ResponseInputTokensDetails InputTokensDetails, int OutputTokens,
    ResponseOutputTokensDetails OutputTokensDetails, int TotalTokens);

public sealed record ResponseInputTokensDetails(int CachedTokens);

public sealed record ResponseOutputTokensDetails(int ReasoningTokens);

/// <summary>An output item; <c>type</c> is written first, from the concrete class.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ResponseReasoningItem), "reasoning")]
[JsonDerivedType(typeof(ResponseMessageItem), "message")]
[JsonDerivedType(typeof(ResponseFunctionCallItem), "function_call")]
public abstract class ResponseOutputItem
{
    public required string Id { get; init; }
    /// <summary>in_progress | completed | incomplete.</summary>
    public string Status { get; set; } = "in_progress";

    /// <summary>A detached copy as it stands now (events carry snapshots; the item keeps growing).</summary>
    public abstract ResponseOutputItem Snapshot();
}

/// <summary>
/// Qwen3's thinking. It is raw reasoning, so it is the item's <c>reasoning_text</c> content; it is also given
/// as the one summary part, because clients (the OpenAI .NET SDK, MEAI) read reasoning from the summary.
/// </summary>
public sealed class ResponseReasoningItem : ResponseOutputItem
{
    public List<ResponseTextPart> Summary { get; init; } = [];
    public List<ResponseTextPart> Content { get; init; } = [];

    public override ResponseOutputItem Snapshot() => new ResponseReasoningItem
    {
        Id = Id, Status = Status, Summary = [.. Summary], Content = [.. Content],
    };
}

public sealed class ResponseMessageItem : ResponseOutputItem
{
    public string Role { get; init; } = "assistant";
    public List<ResponseTextPart> Content { get; init; } = [];

    public override ResponseOutputItem Snapshot() => new ResponseMessageItem { Id = Id, Status = Status, Content = [.. Content] };
}

public sealed class ResponseFunctionCallItem : ResponseOutputItem
{
    public required string CallId { get; init; }
    public required string Name { get; init; }
    public string Arguments { get; set; } = "";

    public override ResponseOutputItem Snapshot() => new ResponseFunctionCallItem
    {
        Id = Id, Status = Status, CallId = CallId, Name = Name, Arguments = Arguments,
    };
}

/// <summary>A text part: <c>output_text</c> (with annotations and logprobs), <c>reasoning_text</c> or <c>summary_text</c>.</summary>
public sealed record ResponseTextPart(string Type, string Text)
{
    public static ResponseTextPart OutputText(string text) => new("output_text", text) { Annotations = [], Logprobs = [] };

    public List<JsonElement>? Annotations { get; init; }
    public List<JsonElement>? Logprobs { get; init; }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// POST /v1/responses body: OpenAI's Responses API, stateless (nothing is stored; see docs/api.md), plus the
/// sampling extensions vLLM accepts on it (top_k, min_p, repetition_penalty, seed).
/// </summary>
public sealed class ResponsesRequest
{
    public string? Model { get; set; }
    /// <summary>A string (one user message) or an array of input items (messages, function calls and their outputs).</summary>
    public JsonElement? Input { get; set; }
    /// <summary>A system message put before the input.</summary>
    public string? Instructions { get; set; }
    public int? MaxOutputTokens { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public float? MinP { get; set; }
    public float? RepetitionPenalty { get; set; }
    public long? Seed { get; set; }
    /// <summary>Flat function tools: {"type":"function","name","description","parameters","strict"}.</summary>
    public JsonArray? Tools { get; set; }
    /// <summary>"auto" | "none" (tools not offered) | "required" | {"type":"function","name"} (forced by the tool-call grammar).</summary>
    public JsonElement? ToolChoice { get; set; }
    public bool? ParallelToolCalls { get; set; }
    public ResponsesReasoningParam? Reasoning { get; set; }
    public ResponsesTextParam? Text { get; set; }
    public bool? Stream { get; set; }
    /// <summary>Accepted and ignored: responses are never stored (the answer says <c>store: false</c>).</summary>
    public bool? Store { get; set; }
    /// <summary>Refused: there is no response store to continue from.</summary>
    public string? PreviousResponseId { get; set; }
    /// <summary>Refused for the same reason (a stored conversation).</summary>
    public JsonElement? Conversation { get; set; }
    /// <summary>Refused when true: background responses need the store.</summary>
    public bool? Background { get; set; }
    public JsonObject? Metadata { get; set; }
    public string? User { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class ResponsesReasoningParam
{
    /// <summary>none | minimal (thinking off) | low | medium | high | xhigh (thinking on).</summary>
    public string? Effort { get; set; }
    /// <summary>auto | concise | detailed: accepted; the summary is Qwen3's whole thinking.</summary>
    public string? Summary { get; set; }
}

public sealed class ResponsesTextParam
{
    /// <summary>{"type":"text"} | {"type":"json_object"} | {"type":"json_schema","name","schema","strict"}.</summary>
    public JsonElement? Format { get; set; }
    public string? Verbosity { get; set; }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>POST /v1/chat/completions body (OpenAI fields plus vLLM's extensions this server honours).</summary>
public sealed class ChatCompletionRequest : SamplingRequest
{
    public List<ChatMessageParam>? Messages { get; set; }

    public int? MaxCompletionTokens { get; set; }
    public bool? Logprobs { get; set; }
    public int? TopLogprobs { get; set; }
    public JsonArray? Tools { get; set; }
    /// <summary>"none" | "auto" | "required" | {"type":"function","function":{"name":…}} (see <see cref="ToolChoice"/>).</summary>
    public JsonElement? ToolChoice { get; set; }
    public bool? ParallelToolCalls { get; set; }
    /// <summary>Extra variables for the chat template, e.g. {"enable_thinking": false}.</summary>
    public JsonObject? ChatTemplateKwargs { get; set; }
    /// <summary>Shortcut for chat_template_kwargs.enable_thinking.</summary>
    public bool? EnableThinking { get; set; }
    /// <summary>OpenAI's reasoning models: "none" and "minimal" turn Qwen3's thinking off, "low" / "medium" / "high" on.</summary>
    public string? ReasoningEffort { get; set; }
    public bool? AddGenerationPrompt { get; set; }
}

/// <summary>One message: system / user / assistant / tool (developer is read as system).</summary>
public sealed class ChatMessageParam
{
    public string? Role { get; set; }
    /// <summary>A string, an array of parts ({"type":"text","text":…}), or null (assistant with tool_calls).</summary>
    public JsonElement? Content { get; set; }
    public string? Name { get; set; }
    public List<ToolCallParam>? ToolCalls { get; set; }
    public string? ToolCallId { get; set; }
    /// <summary>Earlier reasoning of an assistant turn (the template drops it except for the last turns).</summary>
    public string? ReasoningContent { get; set; }
    /// <summary>Some clients send reasoning under this name.</summary>
    public string? Reasoning { get; set; }
}

/// <summary>
/// A tool call in assistant history: OpenAI's <c>{"id","type":"function","function":{"name","arguments"}}</c>,
/// or the flat <c>{"name","arguments"}</c> Qwen's template accepts (some clients replay the model's own blocks).
/// </summary>
public sealed class ToolCallParam
{
    public string? Id { get; set; }
    public string? Type { get; set; }
    public FunctionCallParam? Function { get; set; }
    /// <summary>Flat form: the function name.</summary>
    public string? Name { get; set; }
    /// <summary>Flat form: the arguments (a JSON string or an object).</summary>
    public JsonElement? Arguments { get; set; }
}

public sealed class FunctionCallParam
{
    public string? Name { get; set; }
    /// <summary>OpenAI sends a JSON string; an object is accepted too.</summary>
    public JsonElement? Arguments { get; set; }
}

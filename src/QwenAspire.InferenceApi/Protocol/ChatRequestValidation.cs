using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.InferenceApi.Protocol;

public static class ChatRequestValidation
{
    /// <summary>max_completion_tokens wins over the older max_tokens, as in OpenAI's API.</summary>
    public static int? RequestedMaxTokens(this ChatCompletionRequest r) => r.MaxCompletionTokens ?? r.MaxTokens;

    public static ApiError? Validate(ChatCompletionRequest r, out SamplingFields fields)
    {
        fields = SamplingFields.None;
        if (r.Messages is null) return ApiError.MissingField("messages");
        if (r.Messages.Count == 0)
            return ApiError.BadRequest("'messages' must contain at least one message.", "messages");
        var common = RequestValidation.ValidateSampling(r, r.RequestedMaxTokens(),
            r.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens", out fields);
        if (common is not null) return common;

        if (r.ReasoningEffort is { } effort && !ReasoningEfforts.Contains(effort))
            return ApiError.BadRequest($"'reasoning_effort' must be one of {string.Join(", ", ReasoningEfforts)}; got '{effort}'.", "reasoning_effort", "invalid_value");
        if (r.TopLogprobs is { } top)
        {
            if (top is < 0 or > RequestValidation.MaxTopLogprobs)
                return RequestValidation.Range("top_logprobs", $"between 0 and {RequestValidation.MaxTopLogprobs}", top);
            if (r.Logprobs != true)
                return ApiError.BadRequest("'top_logprobs' can only be used when 'logprobs' is true.", "top_logprobs");
        }
        return ValidateTools(r.Tools) ?? ToolChoice.Parse(r.ToolChoice, r.Tools, out _) ?? ValidateStructuredOutput(r, fields.Format);
    }

    public static readonly string[] ReasoningEfforts = ["none", "minimal", "low", "medium", "high"];

    /// <summary>
    /// The thinking switch the request itself sets (null: the served model's default): enable_thinking, else
    /// reasoning_effort ("none"/"minimal" off, any other effort on).
    /// </summary>
    public static bool? RequestedThinking(this ChatCompletionRequest r) => r.EnableThinking ?? r.ReasoningEffort switch
    {
        null => null,
        "none" or "minimal" => false,
        _ => true,
    };

    /// <summary>True when tool calls should be offered to the model and parsed from its output.</summary>
    public static bool ToolsEnabled(this ChatCompletionRequest r) =>
        r.Tools is { Count: > 0 } && !(r.ToolChoice is { ValueKind: JsonValueKind.String } c && c.GetString() == "none");

    /// <summary>True when tool_choice forces a call (required or a named function): the output is constrained.</summary>
    public static bool ToolCallForced(this ChatCompletionRequest r) =>
        ToolChoice.Parse(r.ToolChoice, r.Tools, out var choice) is null && choice.IsForced;

    /// <summary>
    /// Constrained output starts at the first generated token, so it cannot follow a reasoning block: JSON
    /// requests and forced tool calls render with thinking off, and asking for thinking explicitly with them is
    /// refused. One grammar per request: a forced tool call and a JSON response_format cannot be combined.
    /// </summary>
    private static ApiError? ValidateStructuredOutput(ChatCompletionRequest r, ResponseFormat format)
    {
        var forced = r.ToolCallForced();
        if (!format.IsConstrained && !forced) return null;
        if (format.IsConstrained && forced)
            return ApiError.BadRequest("A forced tool_choice cannot be combined with a JSON response_format; use one of them.", "tool_choice", "unsupported_value");
        var what = forced ? "a forced tool_choice" : "a JSON response_format";
        var kwarg = r.ChatTemplateKwargs?["enable_thinking"];
        if (r.EnableThinking == true || kwarg?.GetValueKind() == JsonValueKind.True) // a reasoning_effort is only a preference: the constraint wins
            return ApiError.BadRequest($"Thinking cannot be combined with {what} (the constraint applies from the first token); " +
                                       "drop enable_thinking or set it to false.", kwarg is not null ? "chat_template_kwargs.enable_thinking" : "enable_thinking", "unsupported_value");
        return null;
    }

    private static ApiError? ValidateTools(JsonArray? tools)
    {
        if (tools is null) return null;
        for (int i = 0; i < tools.Count; i++)
        {
            if (tools[i] is not JsonObject tool
                || tool["type"]?.GetValueKind() is not JsonValueKind.String || (string?)tool["type"] != "function"
                || tool["function"] is not JsonObject fn
                || fn["name"]?.GetValueKind() is not JsonValueKind.String || string.IsNullOrWhiteSpace((string?)fn["name"]))
                return ApiError.BadRequest($"tools[{i}] must be {{\"type\": \"function\", \"function\": {{\"name\": …, \"parameters\": …}}}}.", $"tools[{i}]", "invalid_type");
        }
        return null;
    }
}

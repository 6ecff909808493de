using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.InferenceApi.Api;

namespace QwenAspire.InferenceApi.Protocol;

public static class ChatRequestValidation
{
    /// <summary>max_completion_tokens wins over the older max_tokens, as in OpenAI's API.</summary>
    public static int? RequestedMaxTokens(this ChatCompletionRequest r) => r.MaxCompletionTokens ?? r.MaxTokens;

    public static ApiError? Validate(ChatCompletionRequest r)
    {
        if (r.Messages is null) return ApiError.MissingField("messages");
        if (r.Messages.Count == 0)
            return ApiError.BadRequest("'messages' must contain at least one message.", "messages");
        var common = RequestValidation.ValidateSampling(r, r.RequestedMaxTokens(),
            r.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens");
        if (common is not null) return common;

        if (r.TopLogprobs is { } top)
        {
            if (top is < 0 or > RequestValidation.MaxTopLogprobs)
                return RequestValidation.Range("top_logprobs", $"between 0 and {RequestValidation.MaxTopLogprobs}", top);
            if (r.Logprobs != true)
                return ApiError.BadRequest("'top_logprobs' can only be used when 'logprobs' is true.", "top_logprobs");
        }
        return ValidateResponseFormat(r.ResponseFormat) ?? ValidateToolChoice(r.ToolChoice) ?? ValidateTools(r.Tools);
    }

    /// <summary>True when tool calls should be offered to the model and parsed from its output.</summary>
    public static bool ToolsEnabled(this ChatCompletionRequest r) =>
        r.Tools is { Count: > 0 } && !(r.ToolChoice is { ValueKind: JsonValueKind.String } c && c.GetString() == "none");

    private static ApiError? ValidateResponseFormat(JsonElement? format)
    {
        if (format is not { } f || f.ValueKind == JsonValueKind.Null) return null;
        string? type = f.ValueKind switch
        {
            JsonValueKind.String => f.GetString(),
            JsonValueKind.Object when f.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String => t.GetString(),
            _ => null,
        };
        if (type is null)
            return ApiError.BadRequest("'response_format' must be an object like {\"type\": \"text\"}.", "response_format", "invalid_type");
        return type == "text" ? null
            : ApiError.BadRequest($"response_format type '{type}' is not supported yet; only 'text' is. " +
                                  "JSON modes (json_object, json_schema) come in a later version.", "response_format", "unsupported_value");
    }

    private static ApiError? ValidateToolChoice(JsonElement? choice)
    {
        if (choice is not { } c || c.ValueKind == JsonValueKind.Null) return null;
        if (c.ValueKind == JsonValueKind.String && c.GetString() is "none" or "auto") return null;
        string shown = c.ValueKind == JsonValueKind.String ? $"'{c.GetString()}'" : "a specific function";
        return ApiError.BadRequest($"tool_choice {shown} is not supported yet; use \"auto\" or \"none\".", "tool_choice", "unsupported_value");
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

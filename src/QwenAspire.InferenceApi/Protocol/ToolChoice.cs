using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.InferenceApi.Api;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// A parsed <c>tool_choice</c>: <c>"auto"</c> (or absent; the model decides), <c>"none"</c> (tools are not
/// offered), <c>"required"</c> (one of the tools must be called), or <c>{"type":"function","function":{"name":…}}</c>
/// (that one must be). Forced choices are enforced by a grammar (<c>ForcedToolCalls</c>).
/// </summary>
public sealed record ToolChoice(ToolChoiceKind Kind, string? FunctionName = null)
{
    public bool IsForced => Kind is ToolChoiceKind.Required or ToolChoiceKind.Function;

    public static ApiError? Parse(JsonElement? wire, JsonArray? tools, out ToolChoice choice)
    {
        choice = new ToolChoice(ToolChoiceKind.Auto);
        if (wire is not { } c || c.ValueKind == JsonValueKind.Null) return null;
        if (c.ValueKind == JsonValueKind.String)
        {
            switch (c.GetString())
            {
                case "auto": return null;
                case "none": choice = new ToolChoice(ToolChoiceKind.None); return null;
                case "required":
                    choice = new ToolChoice(ToolChoiceKind.Required);
                    return tools is { Count: > 0 } ? null
                        : ApiError.BadRequest("tool_choice 'required' needs at least one tool in 'tools'.", "tool_choice", "invalid_value");
                default:
                    return ApiError.BadRequest($"tool_choice '{c.GetString()}' is not supported; use \"auto\", \"none\", \"required\" or {{\"type\": \"function\", \"function\": {{\"name\": …}}}}.",
                        "tool_choice", "invalid_value");
            }
        }
        if (c.ValueKind != JsonValueKind.Object
            || !c.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function"
            || !c.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object
            || !fn.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
            return ApiError.BadRequest("tool_choice must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}.", "tool_choice", "invalid_type");
        var wanted = name.GetString()!;
        if (tools is null || !tools.Any(t => t?["function"]?["name"]?.GetValueKind() == JsonValueKind.String && (string?)t["function"]!["name"] == wanted))
            return ApiError.BadRequest($"tool_choice names the function '{wanted}', which is not in 'tools'.", "tool_choice.function.name", "invalid_value");
        choice = new ToolChoice(ToolChoiceKind.Function, wanted);
        return null;
    }
}

public enum ToolChoiceKind { Auto, None, Required, Function }

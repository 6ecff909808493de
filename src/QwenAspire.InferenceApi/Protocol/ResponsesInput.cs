using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// Turns a Responses request's <c>instructions</c> and <c>input</c> into the chat template's messages (the shape
/// <see cref="ChatMessageConverter"/> produces for chat): instructions become the system message; message items
/// keep their role ("developer" read as "system"); consecutive <c>function_call</c> items become one assistant
/// turn with tool_calls; <c>function_call_output</c> items become tool messages; a <c>reasoning</c> item's text
/// rides on the next assistant turn as reasoning_content. Errors name <c>input[i]</c>.
/// </summary>
public static class ResponsesInput
{
    private static readonly string[] s_roles = ["user", "system", "developer", "assistant"];
    private static readonly string[] s_textParts = ["input_text", "output_text", "text"];

    public static ApiError? TryConvert(JsonElement? input, string? instructions, out JsonArray messages)
    {
        messages = [];
        if (!string.IsNullOrEmpty(instructions)) messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        if (input is not { } wire || wire.ValueKind == JsonValueKind.Null) return ApiError.MissingField("input");
        if (wire.ValueKind == JsonValueKind.String)
        {
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = wire.GetString() });
            return null;
        }
        if (wire.ValueKind != JsonValueKind.Array)
            return ApiError.BadRequest("'input' must be a string or an array of input items.", "input", "invalid_type");
        if (wire.GetArrayLength() == 0) return ApiError.BadRequest("'input' must contain at least one item.", "input");

        string? pendingReasoning = null;
        int i = 0;
        foreach (var item in wire.EnumerateArray())
        {
            string at = $"input[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
                return ApiError.BadRequest($"'{at}' must be an object.", at, "invalid_type");
            string? type = String(item, "type") ?? (item.TryGetProperty("role", out _) ? "message" : null);
            var error = type switch
            {
                "message" => AddMessage(item, at, messages, ref pendingReasoning),
                "function_call" => AddFunctionCall(item, at, messages, ref pendingReasoning),
                "function_call_output" => AddFunctionOutput(item, at, messages),
                "reasoning" => ReadReasoning(item, ref pendingReasoning),
                null => ApiError.MissingField($"{at}.type"),
                "item_reference" => ApiError.BadRequest($"'{at}': item references need stored responses; this server stores none, so send the item itself.",
                    $"{at}.type", "unsupported_value"),
                _ => ApiError.BadRequest($"'{at}.type' '{type}' is not supported; use message, function_call, function_call_output or reasoning.",
                    $"{at}.type", "unsupported_value"),
            };
            if (error is not null) return error;
        }
        return null;
    }

    private static ApiError? AddMessage(JsonElement item, string at, JsonArray messages, ref string? pendingReasoning)
    {
        string? role = String(item, "role");
        if (string.IsNullOrEmpty(role)) return ApiError.MissingField($"{at}.role");
        if (!s_roles.Contains(role))
            return ApiError.BadRequest($"'{at}.role' must be one of user, system, developer, assistant; got '{role}'.", $"{at}.role");
        if (ContentText(item, at, out var text) is { } error) return error;
        var message = new JsonObject { ["role"] = role == "developer" ? "system" : role, ["content"] = text };
        if (role == "assistant" && pendingReasoning is not null)
        {
            message["reasoning_content"] = pendingReasoning;
            pendingReasoning = null;
        }
        messages.Add(message);
        return null;
    }

    private static ApiError? AddFunctionCall(JsonElement item, string at, JsonArray messages, ref string? pendingReasoning)
    {
        if (String(item, "name") is not { Length: > 0 } name) return ApiError.MissingField($"{at}.name");
        if (String(item, "call_id") is not { Length: > 0 } callId) return ApiError.MissingField($"{at}.call_id");
        JsonNode? arguments = item.TryGetProperty("arguments", out var a) switch
        {
            false => "{}",
            true when a.ValueKind == JsonValueKind.String => a.GetString(),
            true when a.ValueKind == JsonValueKind.Object => JsonNode.Parse(a.GetRawText()),
            _ => null,
        };
        if (arguments is null)
            return ApiError.BadRequest($"'{at}.arguments' must be a JSON string.", $"{at}.arguments", "invalid_type");
        var call = new JsonObject
        {
            ["id"] = callId,
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
        };
        // Parallel calls arrive as consecutive items; the template wants them on one assistant turn.
        if (messages.Count > 0 && messages[^1] is JsonObject last && (string?)last["role"] == "assistant")
        {
            if (last["tool_calls"] is not JsonArray calls) last["tool_calls"] = calls = [];
            calls.Add(call);
            return null;
        }
        var message = new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(call) };
        if (pendingReasoning is not null)
        {
            message["reasoning_content"] = pendingReasoning;
            pendingReasoning = null;
        }
        messages.Add(message);
        return null;
    }

    private static ApiError? AddFunctionOutput(JsonElement item, string at, JsonArray messages)
    {
        if (String(item, "call_id") is not { Length: > 0 } callId) return ApiError.MissingField($"{at}.call_id");
        if (!item.TryGetProperty("output", out var output) || output.ValueKind == JsonValueKind.Null)
            return ApiError.MissingField($"{at}.output");
        string? text = output.ValueKind == JsonValueKind.String ? output.GetString() : null;
        if (text is null && PartsText(output, $"{at}.output", out text) is { } error) return error;
        messages.Add(new JsonObject { ["role"] = "tool", ["content"] = text, ["tool_call_id"] = callId });
        return null;
    }

    /// <summary>A reasoning item's text: its reasoning_text content, else its summary (ours carry both).</summary>
    private static ApiError? ReadReasoning(JsonElement item, ref string? pendingReasoning)
    {
        foreach (var field in new[] { "content", "summary" })
        {
            if (!item.TryGetProperty(field, out var parts) || parts.ValueKind != JsonValueKind.Array || parts.GetArrayLength() == 0) continue;
            var text = new StringBuilder();
            foreach (var part in parts.EnumerateArray())
                if (part.ValueKind == JsonValueKind.Object && String(part, "text") is { } t) text.Append(t);
            pendingReasoning = text.ToString();
            return null;
        }
        // Only encrypted content (another provider's): nothing we can render.
        return null;
    }

    private static ApiError? ContentText(JsonElement item, string at, out string? text)
    {
        text = null;
        if (!item.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            return ApiError.MissingField($"{at}.content");
        if (content.ValueKind == JsonValueKind.String)
        {
            text = content.GetString();
            return null;
        }
        return PartsText(content, $"{at}.content", out text);
    }

    /// <summary>Text parts joined with newlines (as chat joins them); other kinds are refused.</summary>
    private static ApiError? PartsText(JsonElement parts, string at, out string? text)
    {
        text = null;
        if (parts.ValueKind != JsonValueKind.Array)
            return ApiError.BadRequest($"'{at}' must be a string or an array of content parts.", at, "invalid_type");
        var joined = new StringBuilder();
        int index = 0;
        foreach (var part in parts.EnumerateArray())
        {
            string partAt = $"{at}[{index}]";
            if (part.ValueKind != JsonValueKind.Object || String(part, "type") is not { } type)
                return ApiError.BadRequest($"'{partAt}' must be an object with a 'type'.", partAt, "invalid_type");
            if (!s_textParts.Contains(type))
                return ApiError.BadRequest($"'{partAt}': content part type '{type}' is not supported; this model reads text only (input_text, output_text).",
                    partAt, "unsupported_value");
            if (String(part, "text") is not { } t) return ApiError.MissingField($"{partAt}.text");
            if (index++ > 0) joined.Append('\n');
            joined.Append(t);
        }
        text = joined.ToString();
        return null;
    }

    private static string? String(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

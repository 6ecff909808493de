using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// Turns wire messages into what the chat template reads, keeping them as the client sent them (string
/// tool arguments stay strings, null content stays null) so rendering matches Hugging Face exactly.
/// What real clients send besides is normalised here, once, for every front end and /tokenize:
/// text-part arrays become one string; "developer" is read as "system"; an assistant turn's
/// <c>&lt;think&gt;…&lt;/think&gt;</c> inside its content is split off into <c>reasoning_content</c> (as Qwen3's
/// template does itself when no reasoning is given); tool calls may be OpenAI's or the flat
/// <c>{"name","arguments"}</c> form, their arguments a JSON string or an object. Several system messages are
/// left where they are (Qwen3's template renders a later one in place, as Hugging Face does); for a template that
/// refuses them, <see cref="TryMergeSystemMessages"/> gives the merged conversation to render instead.
/// </summary>
public static class ChatMessageConverter
{
    private static readonly string[] s_roles = ["system", "user", "assistant", "tool"];

    public static ApiError? TryConvert(IReadOnlyList<ChatMessageParam> messages, out JsonArray converted)
    {
        converted = [];
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            string at = $"messages[{i}]";
            if (m is null) return ApiError.BadRequest($"'{at}' must be an object.", at, "invalid_type");
            if (string.IsNullOrEmpty(m.Role)) return ApiError.MissingField($"{at}.role");
            string role = m.Role == "developer" ? "system" : m.Role;
            if (!s_roles.Contains(role))
                return ApiError.BadRequest($"'{at}.role' must be one of system, user, assistant, tool; got '{m.Role}'.", $"{at}.role");

            var error = ConvertContent(m.Content, role, at, out var content);
            if (error is not null) return error;
            var message = new JsonObject { ["role"] = role, ["content"] = content };

            if (m.ToolCalls is { Count: > 0 })
            {
                if (role != "assistant")
                    return ApiError.BadRequest($"'{at}.tool_calls' is only allowed on assistant messages.", $"{at}.tool_calls");
                var calls = new JsonArray();
                for (int j = 0; j < m.ToolCalls.Count; j++)
                {
                    var call = m.ToolCalls[j];
                    if ((call?.Function?.Name ?? call?.Name) is not { Length: > 0 } name)
                        return ApiError.MissingField($"{at}.tool_calls[{j}].function.name");
                    var function = new JsonObject { ["name"] = name, ["arguments"] = ArgumentsNode(call!.Function is { } fn ? fn.Arguments : call.Arguments) };
                    var node = new JsonObject { ["type"] = call.Type ?? "function", ["function"] = function };
                    if (call.Id is not null) node["id"] = call.Id;
                    calls.Add(node);
                }
                message["tool_calls"] = calls;
            }
            if (m.ToolCallId is not null) message["tool_call_id"] = m.ToolCallId;
            if (m.Name is not null) message["name"] = m.Name;
            if ((m.ReasoningContent ?? m.Reasoning) is { } reasoning) message["reasoning_content"] = reasoning;
            if (role == "assistant") SplitThinking(message);
            converted.Add(message);
        }
        return null;
    }

    /// <summary>
    /// <c>&lt;think&gt;r&lt;/think&gt;c</c> in an assistant's content becomes reasoning <c>r</c> and content <c>c</c>, the way
    /// Qwen3's template splits it; reasoning sent separately wins, and the tags never reach the template as text.
    /// </summary>
    private static void SplitThinking(JsonObject message)
    {
        if (message["content"] is not JsonValue v || !v.TryGetValue(out string? content)) return;
        int close = content.IndexOf("</think>", StringComparison.Ordinal);
        if (close < 0) return;
        string before = content[..close];
        int open = before.LastIndexOf("<think>", StringComparison.Ordinal);
        string reasoning = (open >= 0 ? before[(open + "<think>".Length)..] : before).TrimEnd('\n').TrimStart('\n');
        message["content"] = content[(close + "</think>".Length)..].TrimStart('\n');
        if (message["reasoning_content"] is null) message["reasoning_content"] = reasoning;
    }

    /// <summary>
    /// The conversation with every system message's text, in order and joined by a blank line, in one system
    /// message at the start; false when there is nothing to merge (no system message after the first message).
    /// </summary>
    public static bool TryMergeSystemMessages(JsonArray messages, out JsonArray merged)
    {
        merged = messages;
        var systems = messages.OfType<JsonObject>().Where(m => (string?)m["role"] == "system").ToList();
        if (systems.Count == 0 || (systems.Count == 1 && ReferenceEquals(messages[0], systems[0]))) return false;
        string text = string.Join("\n\n", systems.Select(m => (string?)m["content"] ?? "").Where(t => t.Length > 0));
        merged = [new JsonObject { ["role"] = "system", ["content"] = text },
            .. messages.Where(m => !systems.Any(s => ReferenceEquals(s, m))).Select(m => m?.DeepClone())];
        return true;
    }

    private static ApiError? ConvertContent(JsonElement? content, string role, string at, out JsonNode? result)
    {
        result = null;
        if (content is not { } c || c.ValueKind == JsonValueKind.Null)
            return role == "assistant" ? null : ApiError.MissingField($"{at}.content");
        if (c.ValueKind == JsonValueKind.String)
        {
            result = c.GetString();
            return null;
        }
        if (c.ValueKind != JsonValueKind.Array)
            return ApiError.BadRequest($"'{at}.content' must be a string or an array of text parts.", $"{at}.content", "invalid_type");

        var text = new StringBuilder();
        int index = 0;
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                return ApiError.BadRequest($"'{at}.content[{index}]' must be an object with a 'type'.", $"{at}.content[{index}]", "invalid_type");
            if (type.GetString() != "text")
                return ApiError.BadRequest($"'{at}.content[{index}]': content part type '{type.GetString()}' is not supported; this model reads text only.",
                    $"{at}.content[{index}]", "unsupported_value");
            if (!part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                return ApiError.MissingField($"{at}.content[{index}].text");
            // Parts are joined with newlines, as vLLM does.
            if (index > 0) text.Append('\n');
            text.Append(t.GetString());
            index++;
        }
        result = text.ToString();
        return null;
    }

    private static JsonNode? ArgumentsNode(JsonElement? arguments) => arguments switch
    {
        null => "{}",
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { } other => JsonNode.Parse(other.GetRawText()),
    };
}

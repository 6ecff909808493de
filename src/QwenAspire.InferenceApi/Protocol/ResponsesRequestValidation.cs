using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>What a valid Responses request asks, converted once: the template's messages and tools, the output format and the thinking switch.</summary>
/// <param name="Tools">Chat-shaped tools for the template (null: none offered, or tool_choice "none").</param>
/// <param name="Thinking">From reasoning.effort (null: the served model's default).</param>
/// <param name="ToolChoice">tool_choice in chat's shape (null: auto), for the forced-call grammar.</param>
public sealed record ResponsesFields(JsonArray Messages, JsonArray? Tools, ResponseFormat Format, bool? Thinking, JsonElement? ToolChoice = null)
{
    public bool ParseTools => Tools is not null;
}

/// <summary>
/// The Responses front end's own rules; the sampling ranges are the shared ones (<see cref="RequestValidation"/>),
/// the output format and tool_choice rules the chat ones, so both front ends refuse the same things.
/// </summary>
public static class ResponsesRequestValidation
{
    private static readonly string[] s_efforts = ["none", "minimal", "low", "medium", "high", "xhigh"];

    public static ApiError? Validate(ResponsesRequest r, out ResponsesFields fields)
    {
        fields = new ResponsesFields([], null, new ResponseFormat(ResponseFormatKind.Text), null);
        if (string.IsNullOrWhiteSpace(r.Model)) return ApiError.MissingField("model");
        if (r.PreviousResponseId is not null)
            return ApiError.BadRequest("'previous_response_id' is not supported: this server stores no responses (store is always false). " +
                                       "Send the earlier output items (and your function_call_output items) in 'input' instead.", "previous_response_id", "unsupported_parameter");
        if (r.Conversation is { ValueKind: not JsonValueKind.Null })
            return ApiError.BadRequest("'conversation' is not supported: this server stores no conversations; send the whole history in 'input'.", "conversation", "unsupported_parameter");
        if (r.Background == true)
            return ApiError.BadRequest("'background' responses are not supported (they need a response store).", "background", "unsupported_parameter");
        var ranges = RequestValidation.ValidateRanges(r.Temperature, r.TopP, r.TopK, r.MinP, repetitionPenalty: r.RepetitionPenalty);
        if (ranges is not null) return ranges;
        if (r.MaxOutputTokens is < 1) return RequestValidation.Range("max_output_tokens", "at least 1", r.MaxOutputTokens);

        bool? thinking = null;
        if (r.Reasoning?.Effort is { } effort)
        {
            if (!s_efforts.Contains(effort))
                return ApiError.BadRequest($"'reasoning.effort' must be one of {string.Join(", ", s_efforts)}; got '{effort}'.", "reasoning.effort");
            thinking = effort is not ("none" or "minimal");
        }
        if (ParseFormat(r.Text?.Format, out var format) is { } badFormat) return badFormat;
        if (ConvertToolChoice(r.ToolChoice, out var toolChoice) is { } badChoice) return badChoice;
        // One grammar per request, as in chat: a forced call would otherwise silently replace the JSON constraint.
        if (format.IsConstrained && toolChoice is { } forced && !(forced.ValueKind == JsonValueKind.String && forced.GetString() is "auto" or "none"))
            return ApiError.BadRequest("A forced tool_choice cannot be combined with a JSON text.format; use one of them.", "tool_choice", "unsupported_value");
        if (ConvertTools(r.Tools, out var tools) is { } badTools) return badTools;
        if (ResponsesInput.TryConvert(r.Input, r.Instructions, out var messages) is { } badInput) return badInput;
        bool offerTools = tools is { Count: > 0 } && !(r.ToolChoice is { ValueKind: JsonValueKind.String } c && c.GetString() == "none");
        fields = new ResponsesFields(messages, offerTools ? tools : null, format, thinking, toolChoice);
        return null;
    }

    /// <summary>
    /// text.format is response_format flattened (name, schema and strict beside the type): rebuilt in chat's
    /// shape and parsed by <see cref="ResponseFormat.Parse"/>, with its error renamed to the Responses field.
    /// </summary>
    private static ApiError? ParseFormat(JsonElement? wire, out ResponseFormat format)
    {
        format = new ResponseFormat(ResponseFormatKind.Text);
        if (wire is not { } f || f.ValueKind == JsonValueKind.Null) return null;
        if (f.ValueKind != JsonValueKind.Object)
            return ApiError.BadRequest("'text.format' must be an object like {\"type\": \"text\"}.", "text.format", "invalid_type");
        JsonElement chatShape = f;
        if (f.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "json_schema")
        {
            var schema = JsonNode.Parse(f.GetRawText())!.AsObject();
            schema.Remove("type");
            chatShape = JsonSerializer.SerializeToElement(new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema });
        }
        var error = ResponseFormat.Parse(chatShape, out format);
        return error is null ? null : AsTextFormatError(error);
    }

    /// <summary>A response_format error (parsing or schema compilation) renamed to the Responses field, text.format.</summary>
    public static ApiError AsTextFormatError(ApiError error) => error with
    {
        Message = Rename(error.Message)!,
        Param = Rename(error.Param),
    };

    private static string? Rename(string? text) =>
        text?.Replace("response_format.json_schema", "text.format", StringComparison.Ordinal)
            .Replace("response_format", "text.format", StringComparison.Ordinal);

    /// <summary>
    /// "none", "auto", "required", or the flat <c>{"type": "function", "name": …}</c>, rebuilt in chat's shape
    /// (<see cref="Protocol.ToolChoice"/> checks it against the tools). Hosted-tool and allowed_tools choices are refused.
    /// </summary>
    private static ApiError? ConvertToolChoice(JsonElement? wire, out JsonElement? choice)
    {
        choice = null;
        if (wire is not { } c || c.ValueKind == JsonValueKind.Null) return null;
        if (c.ValueKind == JsonValueKind.String)
        {
            if (c.GetString() is "none" or "auto" or "required")
            {
                choice = c;
                return null;
            }
            return ApiError.BadRequest($"tool_choice '{c.GetString()}' is not supported; use \"auto\", \"none\", \"required\" or {{\"type\": \"function\", \"name\": …}}.",
                "tool_choice", "invalid_value");
        }
        if (c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            return ApiError.BadRequest("tool_choice must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"name\": …}.", "tool_choice", "invalid_type");
        if (type.GetString() != "function")
            return ApiError.BadRequest($"tool_choice of type '{type.GetString()}' is not supported; this server runs function tools only.", "tool_choice.type", "unsupported_value");
        if (!c.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
            return ApiError.MissingField("tool_choice.name");
        choice = JsonSerializer.SerializeToElement(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name.GetString() } });
        return null;
    }

    /// <summary>Flat function tools to chat's nested shape (what the template reads); other tool types are refused.</summary>
    private static ApiError? ConvertTools(JsonArray? wire, out JsonArray? tools)
    {
        tools = null;
        if (wire is null) return null;
        tools = [];
        for (int i = 0; i < wire.Count; i++)
        {
            string at = $"tools[{i}]";
            if (wire[i] is not JsonObject tool || tool["type"]?.GetValueKind() is not JsonValueKind.String)
                return ApiError.BadRequest($"'{at}' must be {{\"type\": \"function\", \"name\": …, \"parameters\": …}}.", at, "invalid_type");
            if ((string?)tool["type"] != "function")
                return ApiError.BadRequest($"'{at}.type' '{(string?)tool["type"]}' is not supported; this server runs function tools only.", $"{at}.type", "unsupported_value");
            if (tool["name"]?.GetValueKind() is not JsonValueKind.String || string.IsNullOrWhiteSpace((string?)tool["name"]))
                return ApiError.MissingField($"{at}.name");
            var function = new JsonObject { ["name"] = (string?)tool["name"] };
            if (tool["description"] is { } description) function["description"] = description.DeepClone();
            function["parameters"] = tool["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            tools.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }
        return null;
    }
}

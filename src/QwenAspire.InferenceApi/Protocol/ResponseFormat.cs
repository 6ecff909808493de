using System.Text.Json;

namespace QwenAspire.InferenceApi.Protocol;

public enum ResponseFormatKind { Text, JsonObject, JsonSchema }

/// <summary>A parsed <c>response_format</c>; <see cref="Schema"/> is set for json_schema (a detached copy).</summary>
public sealed record ResponseFormat(ResponseFormatKind Kind, string? Name = null, JsonElement? Schema = null, bool Strict = false)
{
    public bool IsConstrained => Kind != ResponseFormatKind.Text;

    /// <summary>
    /// OpenAI's shapes: <c>{"type":"text"}</c>, <c>{"type":"json_object"}</c>,
    /// <c>{"type":"json_schema","json_schema":{"name":…,"schema":{…},"strict":…}}</c>; Dify may send the bare type string.
    /// Null (absent) means text. The schema's keywords are checked when it is compiled, not here.
    /// </summary>
    public static ApiError? Parse(JsonElement? wire, out ResponseFormat format)
    {
        format = new ResponseFormat(ResponseFormatKind.Text);
        if (wire is not { } f || f.ValueKind == JsonValueKind.Null) return null;
        string? type = f.ValueKind switch
        {
            JsonValueKind.String => f.GetString(),
            JsonValueKind.Object when f.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String => t.GetString(),
            _ => null,
        };
        switch (type)
        {
            case null:
                return ApiError.BadRequest("'response_format' must be an object like {\"type\": \"text\"}.", "response_format", "invalid_type");
            case "text":
                return null;
            case "json_object":
                format = new ResponseFormat(ResponseFormatKind.JsonObject);
                return null;
            case "json_schema":
                return ParseJsonSchema(f, out format);
            default:
                return ApiError.BadRequest($"response_format.type '{type}' is not supported; use 'text', 'json_object' or 'json_schema'.",
                    "response_format.type", "unsupported_value");
        }
    }

    private static ApiError? ParseJsonSchema(JsonElement f, out ResponseFormat format)
    {
        format = new ResponseFormat(ResponseFormatKind.Text);
        const string Param = "response_format.json_schema";
        if (f.ValueKind != JsonValueKind.Object || !f.TryGetProperty("json_schema", out var js) || js.ValueKind != JsonValueKind.Object)
            return ApiError.BadRequest("response_format type 'json_schema' needs a 'json_schema' object: {\"name\": …, \"schema\": {…}, \"strict\": true}.", Param, "invalid_type");
        if (!js.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
            return ApiError.BadRequest("'response_format.json_schema.name' must be a non-empty string.", Param + ".name", "invalid_value");
        if (!js.TryGetProperty("schema", out var schema) || schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True))
            return ApiError.BadRequest("'response_format.json_schema.schema' must be a JSON Schema object.", Param + ".schema", "invalid_type");
        var strict = false;
        if (js.TryGetProperty("strict", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return ApiError.BadRequest("'response_format.json_schema.strict' must be a boolean.", Param + ".strict", "invalid_type");
            strict = s.GetBoolean();
        }
        format = new ResponseFormat(ResponseFormatKind.JsonSchema, name.GetString(), schema.Clone(), strict);
        return null;
    }
}

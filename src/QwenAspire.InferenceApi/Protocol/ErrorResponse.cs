using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>OpenAI's error envelope: <c>{"error":{"message","type","param","code"}}</c> — the only error shape this API sends.</summary>
public sealed record ErrorResponse([property: JsonPropertyName("error")] ErrorInfo Error);

public sealed record ErrorInfo(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonPropertyName("code"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);

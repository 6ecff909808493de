using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.Engine.Model;

/// <summary>
/// A Hugging Face <c>generation_config.json</c>: the model's default sampling settings and eos ids
/// (<c>eos_token_id</c> may be an int or a list).
/// </summary>
public sealed record GenerationConfig
{
    [JsonPropertyName("eos_token_id")] public JsonElement? EosTokenIdRaw { get; init; }
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; }
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }
    [JsonPropertyName("do_sample")] public bool? DoSample { get; init; }
    [JsonPropertyName("temperature")] public float? Temperature { get; init; }
    [JsonPropertyName("top_p")] public float? TopP { get; init; }
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
    [JsonPropertyName("min_p")] public float? MinP { get; init; }
    [JsonPropertyName("repetition_penalty")] public float? RepetitionPenalty { get; init; }
    [JsonPropertyName("max_new_tokens")] public int? MaxNewTokens { get; init; }

    /// <summary>The eos ids, whether the file gives one int or a list (empty when absent).</summary>
    [JsonIgnore] public IReadOnlyList<int> EosTokenIds { get; private init; } = [];

    /// <summary>Reads the file; a missing file yields an empty config (HF treats it as optional).</summary>
    public static GenerationConfig Load(string path)
    {
        if (!File.Exists(path)) return new GenerationConfig();
        var config = ConfigJson.Read<GenerationConfig>(path);
        config ??= new GenerationConfig();
        return config with { EosTokenIds = ParseIds(path, "eos_token_id", config.EosTokenIdRaw) };
    }

    internal static IReadOnlyList<int> ParseIds(string path, string field, JsonElement? element)
    {
        if (element is not { } e || e.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return [];
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var single)) return [single];
        if (e.ValueKind == JsonValueKind.Array)
            return [.. e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out var id) ? id
                : throw new ModelFormatException(path, $"field '{field}' holds '{x.GetRawText()}', not a token id."))];
        throw new ModelFormatException(path, $"field '{field}' must be an int or a list of ints, not '{e.GetRawText()}'.");
    }
}

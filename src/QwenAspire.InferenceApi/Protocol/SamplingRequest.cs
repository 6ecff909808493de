using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// The fields chat and completions share: the model, sampling, stop conditions, streaming and vLLM's
/// extensions. Validated once (<see cref="RequestValidation"/>) and turned into engine settings in one place
/// (<see cref="SamplingMapper"/>). Unknown fields land in <see cref="Unknown"/>: ignored, logged once.
/// </summary>
public abstract class SamplingRequest
{
    public string? Model { get; set; }

    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public float? MinP { get; set; }
    public int? MaxTokens { get; set; }
    public int? N { get; set; }
    /// <summary>A string or a list of strings.</summary>
    public JsonElement? Stop { get; set; }
    public List<int>? StopTokenIds { get; set; }
    public long? Seed { get; set; }
    public float? PresencePenalty { get; set; }
    public float? FrequencyPenalty { get; set; }
    public float? RepetitionPenalty { get; set; }
    /// <summary>{"type":"text"|"json_object"|"json_schema", …} (see <see cref="Protocol.ResponseFormat"/>). Dify may send the bare string.</summary>
    public JsonElement? ResponseFormat { get; set; }
    /// <summary>OpenAI: {"token id": bias −100…100}; JSON keys are strings.</summary>
    public Dictionary<string, JsonElement>? LogitBias { get; set; }
    public bool? Stream { get; set; }
    public StreamOptions? StreamOptions { get; set; }
    public string? User { get; set; }
    public bool? IgnoreEos { get; set; }
    public bool? SkipSpecialTokens { get; set; }
    /// <summary>vLLM extension: return prompt and generated token ids.</summary>
    public bool? ReturnTokenIds { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class StreamOptions
{
    public bool? IncludeUsage { get; set; }
    public bool? ContinuousUsageStats { get; set; }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>POST /v1/completions body. <c>prompt</c>: a string, a list of strings, token ids, or lists of token ids.</summary>
public sealed class CompletionRequest : ISamplingRequest
{
    public string? Model { get; set; }
    public JsonElement? Prompt { get; set; }
    public string? Suffix { get; set; }
    public bool? Echo { get; set; }

    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public float? MinP { get; set; }
    public int? MaxTokens { get; set; }
    public int? N { get; set; }
    public JsonElement? Stop { get; set; }
    public List<int>? StopTokenIds { get; set; }
    public long? Seed { get; set; }
    public float? PresencePenalty { get; set; }
    public float? FrequencyPenalty { get; set; }
    public float? RepetitionPenalty { get; set; }
    /// <summary>Completions API: number of top alternatives per token (0..20).</summary>
    public int? Logprobs { get; set; }
    public bool? Stream { get; set; }
    public StreamOptions? StreamOptions { get; set; }
    public string? User { get; set; }
    public bool? IgnoreEos { get; set; }
    public bool? SkipSpecialTokens { get; set; }
    public bool? ReturnTokenIds { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>Fields both generation endpoints share, read by the one conversion to engine sampling params.</summary>
public interface ISamplingRequest
{
    string? Model { get; }
    float? Temperature { get; }
    float? TopP { get; }
    int? TopK { get; }
    float? MinP { get; }
    int? N { get; }
    JsonElement? Stop { get; }
    List<int>? StopTokenIds { get; }
    long? Seed { get; }
    float? PresencePenalty { get; }
    float? FrequencyPenalty { get; }
    float? RepetitionPenalty { get; }
    bool? Stream { get; }
    StreamOptions? StreamOptions { get; }
    bool? IgnoreEos { get; }
    bool? SkipSpecialTokens { get; }
    bool? ReturnTokenIds { get; }
    Dictionary<string, JsonElement>? Unknown { get; }
}

using System.Text.Json;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>POST /v1/completions body. <c>prompt</c>: a string, a list of strings, token ids, or lists of token ids.</summary>
public sealed class CompletionRequest : SamplingRequest
{
    public JsonElement? Prompt { get; set; }
    public string? Suffix { get; set; }
    public bool? Echo { get; set; }
    /// <summary>Completions API: number of top alternatives per token (0..20).</summary>
    public int? Logprobs { get; set; }
}

using Microsoft.Extensions.Configuration;

namespace QwenAspire.InferenceApi.Options;

/// <summary>
/// The <c>generation</c> section: server-side defaults for fields a request leaves out. Unset sampling
/// values fall back to the checkpoint's generation_config.json.
/// </summary>
public sealed class GenerationDefaultsOptions
{
    public const string Section = "generation";

    public float? Temperature { get; set; }
    [ConfigurationKeyName("top_p")] public float? TopP { get; set; }
    [ConfigurationKeyName("top_k")] public int? TopK { get; set; }
    [ConfigurationKeyName("min_p")] public float? MinP { get; set; }
    [ConfigurationKeyName("repetition_penalty")] public float? RepetitionPenalty { get; set; }

    /// <summary>Completion length when a request sets no max_tokens (always capped by the context).</summary>
    [ConfigurationKeyName("max_tokens")] public int MaxTokens { get; set; } = 1024;

    /// <summary>Qwen3 thinking (<c>&lt;think&gt;</c>) when a request does not say.</summary>
    [ConfigurationKeyName("enable_thinking")] public bool EnableThinking { get; set; } = true;
}

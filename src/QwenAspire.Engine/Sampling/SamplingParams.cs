using QwenAspire.Engine.Sampling.LogitsProcessors;

namespace QwenAspire.Engine.Sampling;

/// <summary>
/// Engine-side sampling settings for one sequence (the API converts OpenAI wire fields into this in one
/// place). Defaults are neutral; the server fills unset values from generation_config.json / config.
/// </summary>
public sealed record SamplingParams
{
    /// <summary>0 means greedy (argmax).</summary>
    public float Temperature { get; init; } = 1f;
    /// <summary>1 disables nucleus filtering.</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>0 (or less) disables top-k.</summary>
    public int TopK { get; init; }
    /// <summary>0 disables min-p.</summary>
    public float MinP { get; init; }
    public float PresencePenalty { get; init; }
    public float FrequencyPenalty { get; init; }
    /// <summary>1 disables the (multiplicative, HF-style) repetition penalty.</summary>
    public float RepetitionPenalty { get; init; } = 1f;
    /// <summary>Same seed, same prompt, same params → same tokens. Null: a random seed.</summary>
    public long? Seed { get; init; }
    /// <summary>0: run the prompt only and generate nothing (scoring a prompt with <see cref="PromptLogprobs"/>).</summary>
    public int MaxTokens { get; init; } = 256;
    /// <summary>Generation stops when the decoded text contains one of these (not included in the output).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Extra stop token ids besides the model's eos ids.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    public bool IgnoreEos { get; init; }
    /// <summary>Null: no logprobs. 0: only the chosen token's logprob. N: also the top N alternatives.</summary>
    public int? Logprobs { get; init; }
    /// <summary>
    /// vLLM's prompt_logprobs. Null: none. N: each prompt token's logprob given the tokens before it (the first has
    /// none), plus the top N alternatives, delivered in one event before the first generated token. Such a sequence
    /// computes its whole prompt (no prefix-cache hits: skipped positions would have no logits).
    /// </summary>
    public int? PromptLogprobs { get; init; }
    /// <summary>OpenAI logit_bias: token id → −100…100 added to its logit (−100 bans it outright).</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }
    /// <summary>A constraint on the output (structured output: JSON, a schema); each sequence gets its own state from it.</summary>
    public ILogitsProcessorFactory? Constraint { get; init; }
    /// <summary>Drop special tokens (ids flagged special in tokenizer.json) from the output text.</summary>
    public bool SkipSpecialTokens { get; init; } = true;
}

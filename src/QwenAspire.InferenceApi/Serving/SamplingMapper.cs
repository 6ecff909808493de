using QwenAspire.Engine.Sampling;
using QwenAspire.Engine.Sampling.LogitsProcessors;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// What a request asks of sampling, in no front end's wire shape (already validated; null: the model's or the
/// server's default). Chat and completions fill it from <see cref="SamplingRequest"/>; another front end
/// (Responses) fills it from its own fields.
/// </summary>
public sealed record SamplingInput
{
    public float? Temperature { get; init; }
    public float? TopP { get; init; }
    public int? TopK { get; init; }
    public float? MinP { get; init; }
    public float? PresencePenalty { get; init; }
    public float? FrequencyPenalty { get; init; }
    public float? RepetitionPenalty { get; init; }
    public long? Seed { get; init; }
    /// <summary>As sent (max_tokens, max_completion_tokens, max_output_tokens); null: the server default.</summary>
    public int? MaxTokens { get; init; }
    public IReadOnlyList<string> Stops { get; init; } = [];
    public IReadOnlyList<int>? StopTokenIds { get; init; }
    public bool? IgnoreEos { get; init; }
    public bool? SkipSpecialTokens { get; init; }
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }
    /// <summary>Null: none. 0: chosen token only. N: also the top N.</summary>
    public int? Logprobs { get; init; }
    /// <summary>Null: none. N: each prompt token's logprob and the top N (completions with echo and logprobs).</summary>
    public int? PromptLogprobs { get; init; }
    /// <summary>The response_format constraint all choices share (null: free text).</summary>
    public ILogitsProcessorFactory? Constraint { get; init; }

    /// <summary>The shared fields of chat and completions (<paramref name="fields"/>: what validation parsed).</summary>
    public static SamplingInput From(SamplingRequest r, SamplingFields fields, int? maxTokens, int? logprobs, ILogitsProcessorFactory? constraint) => new()
    {
        Temperature = r.Temperature,
        TopP = r.TopP,
        TopK = r.TopK,
        MinP = r.MinP,
        PresencePenalty = r.PresencePenalty,
        FrequencyPenalty = r.FrequencyPenalty,
        RepetitionPenalty = r.RepetitionPenalty,
        Seed = r.Seed,
        MaxTokens = maxTokens,
        Stops = fields.Stops,
        StopTokenIds = r.StopTokenIds,
        IgnoreEos = r.IgnoreEos,
        SkipSpecialTokens = r.SkipSpecialTokens,
        LogitBias = fields.LogitBias,
        Logprobs = logprobs,
        Constraint = constraint,
    };
}

/// <summary>The one place where a request's sampling fields become engine sampling settings (vLLM's to_sampling_params).</summary>
public static class SamplingMapper
{
    /// <param name="defaultMaxTokens">generation.max_tokens: the length when the request sets none.</param>
    /// <param name="choiceIndex">With a seed, choice i uses seed + i so n &gt; 1 choices differ yet replay exactly.</param>
    public static SamplingParams ToSamplingParams(SamplingInput r, SamplingDefaults defaults, int defaultMaxTokens,
        int promptLength, int maxContextLength, int choiceIndex)
    {
        // A prompt that leaves no room is refused by the engine; a longer request is capped (finish_reason "length").
        int room = Math.Max(1, maxContextLength - promptLength);
        return new SamplingParams
        {
            Temperature = r.Temperature ?? defaults.Temperature,
            TopP = r.TopP ?? defaults.TopP,
            TopK = r.TopK is { } k ? Math.Max(0, k) : defaults.TopK,
            MinP = r.MinP ?? defaults.MinP,
            PresencePenalty = r.PresencePenalty ?? 0f,
            FrequencyPenalty = r.FrequencyPenalty ?? 0f,
            RepetitionPenalty = r.RepetitionPenalty ?? defaults.RepetitionPenalty,
            Seed = r.Seed is { } seed ? unchecked(seed + choiceIndex) : null,
            MaxTokens = Math.Min(r.MaxTokens ?? defaultMaxTokens, room),
            StopStrings = r.Stops,
            StopTokenIds = r.StopTokenIds ?? [],
            IgnoreEos = r.IgnoreEos ?? false,
            Logprobs = r.Logprobs,
            PromptLogprobs = r.PromptLogprobs,
            LogitBias = r.LogitBias is { Count: > 0 } bias ? bias : null,
            Constraint = r.Constraint,
            SkipSpecialTokens = r.SkipSpecialTokens ?? true,
        };
    }
}

using QwenAspire.Engine.Sampling;
using QwenAspire.Engine.Sampling.LogitsProcessors;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>The one place where wire fields become engine sampling settings (vLLM's to_sampling_params).</summary>
public static class SamplingMapper
{
    /// <param name="requestedMaxTokens">max_tokens / max_completion_tokens as sent (null: the server default).</param>
    /// <param name="logprobs">Null: none. 0: chosen token only. N: also the top N.</param>
    /// <param name="choiceIndex">With a seed, choice i uses seed + i so n &gt; 1 choices differ yet replay exactly.</param>
    /// <param name="constraint">The response_format constraint all choices share (null: free text).</param>
    public static SamplingParams ToSamplingParams(
        SamplingRequest r, int? requestedMaxTokens, int? logprobs, IReadOnlyList<string> stops,
        SamplingDefaults defaults, int defaultMaxTokens, int promptLength, int maxContextLength, int choiceIndex,
        ILogitsProcessorFactory? constraint = null)
    {
        // The prompt has been checked to leave room; a longer request is capped (finish_reason "length").
        int room = Math.Max(1, maxContextLength - promptLength);
        RequestValidation.ParseLogitBias(r.LogitBias, out var bias); // validated already
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
            MaxTokens = Math.Min(requestedMaxTokens ?? defaultMaxTokens, room),
            StopStrings = stops,
            StopTokenIds = r.StopTokenIds ?? [],
            IgnoreEos = r.IgnoreEos ?? false,
            Logprobs = logprobs,
            LogitBias = bias.Count > 0 ? bias : null,
            Constraint = constraint,
            SkipSpecialTokens = r.SkipSpecialTokens ?? true,
        };
    }
}

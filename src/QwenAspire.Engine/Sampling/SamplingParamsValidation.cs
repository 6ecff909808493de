namespace QwenAspire.Engine.Sampling;

/// <summary>Range checks the engine applies at submit; errors name the OpenAI parameter.</summary>
public static class SamplingParamsValidation
{
    /// <param name="vocabSize">Ids the model has logits for (logit_bias keys must be below it).</param>
    public static void Validate(SamplingParams p, int maxLogprobs, int vocabSize = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (!float.IsFinite(p.Temperature) || p.Temperature < 0)
            throw Range("temperature", p.Temperature, "must be a finite number ≥ 0");
        if (!(p.TopP > 0 && p.TopP <= 1)) throw Range("top_p", p.TopP, "must be in (0, 1]");
        if (!(p.MinP >= 0 && p.MinP <= 1)) throw Range("min_p", p.MinP, "must be in [0, 1]");
        if (!(p.PresencePenalty >= -2 && p.PresencePenalty <= 2)) throw Range("presence_penalty", p.PresencePenalty, "must be in [-2, 2]");
        if (!(p.FrequencyPenalty >= -2 && p.FrequencyPenalty <= 2)) throw Range("frequency_penalty", p.FrequencyPenalty, "must be in [-2, 2]");
        if (!float.IsFinite(p.RepetitionPenalty) || p.RepetitionPenalty <= 0)
            throw Range("repetition_penalty", p.RepetitionPenalty, "must be a finite number > 0");
        if (p.MaxTokens < 0) throw Range("max_tokens", p.MaxTokens, "must be at least 0");
        if (p.Logprobs is { } n && (n < 0 || n > maxLogprobs))
            throw Range("top_logprobs", n, $"must be in [0, {maxLogprobs}]");
        if (p.PromptLogprobs is { } pn && (pn < 0 || pn > maxLogprobs))
            throw Range("prompt_logprobs", pn, $"must be in [0, {maxLogprobs}]");
        if (p.StopStrings is null || p.StopStrings.Any(string.IsNullOrEmpty))
            throw new ArgumentException("stop: stop strings must be non-empty.", "stop");
        if (p.LogitBias is { } bias)
        {
            foreach (var (id, value) in bias)
            {
                if ((uint)id >= (uint)vocabSize) throw Range("logit_bias", id, $"keys must be token ids in [0, {vocabSize - 1}]");
                if (!(value >= -100 && value <= 100)) throw Range("logit_bias", value, "values must be in [-100, 100]");
            }
        }
        if (p.Constraint is not null && p.IgnoreEos)
            throw new ArgumentException("ignore_eos cannot be used with a structured-output constraint (it ends only at eos).", "ignore_eos");
        if (p.StopTokenIds is null) throw new ArgumentException("stop_token_ids must not be null.", "stop_token_ids");
    }

    private static ArgumentOutOfRangeException Range(string name, object value, string rule) =>
        new(name, value, $"{name} {rule} (got {value}).");
}

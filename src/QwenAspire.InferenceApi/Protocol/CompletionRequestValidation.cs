namespace QwenAspire.InferenceApi.Protocol;

public static class CompletionRequestValidation
{
    /// <summary>The sampling fields (shared rules), then what only /v1/completions has.</summary>
    public static ApiError? Validate(CompletionRequest r, out SamplingFields fields)
    {
        if (RequestValidation.ValidateSampling(r, r.MaxTokens, "max_tokens", out fields) is { } invalid) return invalid;
        if (r.Logprobs is < 0 or > RequestValidation.MaxTopLogprobs)
            return RequestValidation.Range("logprobs", $"between 0 and {RequestValidation.MaxTopLogprobs}", r.Logprobs);
        if (r.Suffix is { Length: > 0 })
            return ApiError.BadRequest("'suffix' is not supported by this model.", "suffix", "unsupported_value");
        return null;
    }
}

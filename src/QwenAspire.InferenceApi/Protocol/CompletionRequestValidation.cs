namespace QwenAspire.InferenceApi.Protocol;

public static class CompletionRequestValidation
{
    /// <summary>The sampling fields (shared rules), then what only /v1/completions has.</summary>
    public static ApiError? Validate(CompletionRequest r, out SamplingFields fields)
    {
        // max_tokens 0 with echo scores the prompt without generating (OpenAI's legacy API and vLLM take it); alone it
        // would return nothing at all, so it stays an error.
        if (RequestValidation.ValidateSampling(r, r.MaxTokens == 0 ? null : r.MaxTokens, "max_tokens", out fields) is { } invalid) return invalid;
        if (r.MaxTokens == 0 && r.Echo != true)
            return RequestValidation.Range("max_tokens", "at least 1 (0 only with echo: true, to return the prompt and its logprobs)", r.MaxTokens);
        if (r.Logprobs is < 0 or > RequestValidation.MaxTopLogprobs)
            return RequestValidation.Range("logprobs", $"between 0 and {RequestValidation.MaxTopLogprobs}", r.Logprobs);
        if (r.Suffix is { Length: > 0 })
            return ApiError.BadRequest("'suffix' is not supported by this model.", "suffix", "unsupported_value");
        return null;
    }
}

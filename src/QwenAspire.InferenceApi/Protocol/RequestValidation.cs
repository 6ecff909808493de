using System.Text.Json;
using QwenAspire.InferenceApi.Api;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>Checks shared by chat and completions; each failure names the parameter (vLLM's precise messages).</summary>
public static class RequestValidation
{
    public const int MaxChoices = 16;
    public const int MaxStopStrings = 16;
    public const int MaxTopLogprobs = 20;

    public static ApiError? ValidateSampling(SamplingRequest r, int? maxTokens, string maxTokensParam)
    {
        if (string.IsNullOrWhiteSpace(r.Model)) return ApiError.MissingField("model");
        if (r.Temperature is < 0 or > 2 || r.Temperature is float t && !float.IsFinite(t))
            return Range("temperature", "between 0 and 2", r.Temperature);
        if (r.TopP is <= 0 or > 1 || r.TopP is float p && !float.IsFinite(p))
            return Range("top_p", "greater than 0 and at most 1", r.TopP);
        if (r.TopK is < -1) return Range("top_k", "-1 or 0 (disabled) or a positive integer", r.TopK);
        if (r.MinP is < 0 or > 1) return Range("min_p", "between 0 and 1", r.MinP);
        if (r.PresencePenalty is < -2 or > 2) return Range("presence_penalty", "between -2 and 2", r.PresencePenalty);
        if (r.FrequencyPenalty is < -2 or > 2) return Range("frequency_penalty", "between -2 and 2", r.FrequencyPenalty);
        if (r.RepetitionPenalty is <= 0 or > 2) return Range("repetition_penalty", "greater than 0 and at most 2", r.RepetitionPenalty);
        if (r.N is < 1 or > MaxChoices) return Range("n", $"between 1 and {MaxChoices}", r.N);
        if (maxTokens is < 1) return Range(maxTokensParam, "at least 1", maxTokens);
        if (r.StreamOptions is not null && r.Stream != true)
            return ApiError.BadRequest("Stream options (`stream_options`) can only be defined when `stream=True`.", "stream_options");
        if (r.StopTokenIds?.Any(id => id < 0) == true) return Range("stop_token_ids", "non-negative token ids", null);
        return ParseLogitBias(r.LogitBias, out _) ?? ParseResponseFormat(r) ?? ParseStop(r.Stop, out _);
    }

    /// <summary>response_format's shape (chat and completions); json modes cannot be combined with ignore_eos (they end at eos).</summary>
    public static ApiError? ParseResponseFormat(SamplingRequest r)
    {
        if (ResponseFormat.Parse(r.ResponseFormat, out var format) is { } invalid) return invalid;
        return format.IsConstrained && r.IgnoreEos == true
            ? ApiError.BadRequest("'ignore_eos' cannot be used with a JSON response_format: constrained output ends at eos once the value is complete.", "ignore_eos", "unsupported_value")
            : null;
    }

    /// <summary>
    /// <c>logit_bias</c>: keys are token ids written as decimal strings, values numbers in [−100, 100]. Ids past
    /// the model's vocabulary are refused by the engine at submit (it knows the size), also as a 400.
    /// </summary>
    public static ApiError? ParseLogitBias(Dictionary<string, JsonElement>? bias, out Dictionary<int, float> parsed)
    {
        parsed = [];
        if (bias is null) return null;
        foreach (var (key, value) in bias)
        {
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
                return ApiError.BadRequest($"'logit_bias' keys must be token ids (non-negative integers as strings), got '{key}'.", "logit_bias", "invalid_value");
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var v) || v is < -100 or > 100)
                return ApiError.BadRequest($"'logit_bias' values must be numbers between -100 and 100, got {value.GetRawText()} for token {key}.", "logit_bias", "invalid_value");
            parsed[id] = (float)v;
        }
        return null;
    }

    /// <summary><c>stop</c>: null, a string, or a list of non-empty strings.</summary>
    public static ApiError? ParseStop(JsonElement? stop, out List<string> stops)
    {
        stops = [];
        if (stop is not { } s || s.ValueKind == JsonValueKind.Null) return null;
        if (s.ValueKind == JsonValueKind.String)
        {
            if (s.GetString() is { Length: > 0 } one) stops.Add(one);
            return null;
        }
        if (s.ValueKind != JsonValueKind.Array)
            return ApiError.BadRequest("'stop' must be a string or an array of strings.", "stop", "invalid_type");
        foreach (var item in s.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                return ApiError.BadRequest("'stop' must be a string or an array of strings.", "stop", "invalid_type");
            if (item.GetString() is { Length: > 0 } value) stops.Add(value);
        }
        return stops.Count > MaxStopStrings
            ? Range("stop", $"at most {MaxStopStrings} strings", stops.Count)
            : null;
    }

    internal static ApiError Range(string param, string expected, object? got) =>
        ApiError.BadRequest($"'{param}' must be {expected}{(got is null ? "" : $", got {Convert.ToString(got, System.Globalization.CultureInfo.InvariantCulture)}")}.", param);
}

using System.Text.Json;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// The fields of a <see cref="SamplingRequest"/> that need parsing, parsed once by <see cref="RequestValidation.ValidateSampling"/>
/// and read from here afterwards (serving never parses <c>stop</c>, <c>logit_bias</c> or <c>response_format</c> again).
/// </summary>
public sealed record SamplingFields(IReadOnlyList<string> Stops, IReadOnlyDictionary<int, float> LogitBias, ResponseFormat Format)
{
    public static SamplingFields None { get; } = new([], new Dictionary<int, float>(), new ResponseFormat(ResponseFormatKind.Text));
}

/// <summary>
/// The wire rules of the sampling fields, in one place for every front end (chat, completions, and any other that
/// maps its own fields onto these); each failure names the parameter (vLLM's precise messages). The engine checks
/// its own invariants again at submit, as a library boundary, with rules no stricter than these.
/// </summary>
public static class RequestValidation
{
    public const int MaxChoices = 16;
    public const int MaxStopStrings = 16;
    public const int MaxTopLogprobs = 20;

    public static ApiError? ValidateSampling(SamplingRequest r, int? maxTokens, string maxTokensParam, out SamplingFields fields)
    {
        fields = SamplingFields.None;
        if (string.IsNullOrWhiteSpace(r.Model)) return ApiError.MissingField("model");
        var ranges = ValidateRanges(r.Temperature, r.TopP, r.TopK, r.MinP, r.PresencePenalty, r.FrequencyPenalty, r.RepetitionPenalty);
        if (ranges is not null) return ranges;
        if (r.N is < 1 or > MaxChoices) return Range("n", $"between 1 and {MaxChoices}", r.N);
        if (maxTokens is < 1) return Range(maxTokensParam, "at least 1", maxTokens);
        if (r.StreamOptions is not null && r.Stream != true)
            return ApiError.BadRequest("Stream options (`stream_options`) can only be defined when `stream=True`.", "stream_options");
        if (r.StopTokenIds?.Any(id => id < 0) == true) return Range("stop_token_ids", "non-negative token ids", null);
        if (ParseLogitBias(r.LogitBias, out var bias) is { } badBias) return badBias;
        if (ParseResponseFormat(r.ResponseFormat, r.IgnoreEos, out var format) is { } badFormat) return badFormat;
        if (ParseStop(r.Stop, out var stops) is { } badStop) return badStop;
        fields = new SamplingFields(stops, bias, format);
        return null;
    }

    /// <summary>The numeric sampling ranges (OpenAI's, plus vLLM's extensions); a front end without some field passes null.</summary>
    public static ApiError? ValidateRanges(float? temperature, float? topP, int? topK = null, float? minP = null,
        float? presencePenalty = null, float? frequencyPenalty = null, float? repetitionPenalty = null)
    {
        if (temperature is < 0 or > 2 || temperature is float t && !float.IsFinite(t))
            return Range("temperature", "between 0 and 2", temperature);
        if (topP is <= 0 or > 1 || topP is float p && !float.IsFinite(p))
            return Range("top_p", "greater than 0 and at most 1", topP);
        if (topK is < -1) return Range("top_k", "-1 or 0 (disabled) or a positive integer", topK);
        if (minP is < 0 or > 1 || minP is float m && !float.IsFinite(m)) return Range("min_p", "between 0 and 1", minP);
        if (presencePenalty is < -2 or > 2 || presencePenalty is float pp && !float.IsFinite(pp))
            return Range("presence_penalty", "between -2 and 2", presencePenalty);
        if (frequencyPenalty is < -2 or > 2 || frequencyPenalty is float fp && !float.IsFinite(fp))
            return Range("frequency_penalty", "between -2 and 2", frequencyPenalty);
        if (repetitionPenalty is <= 0 or > 2 || repetitionPenalty is float rp && !float.IsFinite(rp))
            return Range("repetition_penalty", "greater than 0 and at most 2", repetitionPenalty);
        return null;
    }

    /// <summary>response_format's shape; json modes cannot be combined with ignore_eos (they end at eos).</summary>
    public static ApiError? ParseResponseFormat(JsonElement? wire, bool? ignoreEos, out ResponseFormat format)
    {
        if (ResponseFormat.Parse(wire, out format) is { } invalid) return invalid;
        return format.IsConstrained && ignoreEos == true
            ? ApiError.BadRequest("'ignore_eos' cannot be used with a JSON response_format: constrained output ends at eos once the value is complete.", "ignore_eos", "unsupported_value")
            : null;
    }

    /// <summary>
    /// <c>logit_bias</c>: keys are token ids written as decimal strings, values numbers in [−100, 100]. Ids past
    /// the model's vocabulary are refused by the engine at submit (it knows the size), also as a 400.
    /// </summary>
    public static ApiError? ParseLogitBias(Dictionary<string, JsonElement>? bias, out IReadOnlyDictionary<int, float> result)
    {
        var parsed = new Dictionary<int, float>();
        result = parsed;
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
    public static ApiError? ParseStop(JsonElement? stop, out IReadOnlyList<string> parsed)
    {
        var stops = new List<string>();
        parsed = stops;
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

    public static ApiError Range(string param, string expected, object? got) =>
        ApiError.BadRequest($"'{param}' must be {expected}{(got is null ? "" : $", got {Convert.ToString(got, System.Globalization.CultureInfo.InvariantCulture)}")}.", param);
}

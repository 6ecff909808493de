using Microsoft.Extensions.Options;

namespace QwenAspire.InferenceApi.Options;

/// <summary>Start-up validation: every failure names the configuration key, as written in service_config.yaml.</summary>
public sealed class ModelOptionsValidator : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions o)
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(o.Path) && !Directory.Exists(o.Path))
            errors.Add($"model.path: the folder '{o.Path}' does not exist.");
        if (!ModelOptions.Dtypes.Contains(o.Dtype, StringComparer.OrdinalIgnoreCase))
            errors.Add($"model.dtype: '{o.Dtype}' is not one of {string.Join(", ", ModelOptions.Dtypes)}.");
        if (o.ServedModelName is { Length: > 0 } served && served.Trim() != served)
            errors.Add($"model.served_model_name: '{served}' has leading or trailing spaces.");
        foreach (var (adapter, dir) in o.Adapters)
        {
            if (string.IsNullOrWhiteSpace(dir) || !Directory.Exists(dir))
                errors.Add($"model.adapters.{adapter}: the adapter folder '{dir}' does not exist.");
            if (adapter == o.ServedModelName && o.ServedModelName is { Length: > 0 })
                errors.Add($"model.adapters.{adapter}: the adapter name equals model.served_model_name.");
        }
        if (o.MergeSingleAdapter && o.Adapters.Count > 1)
            errors.Add($"model.merge_single_adapter: true merges only a single adapter, but model.adapters lists {o.Adapters.Count}; " +
                       "set it to false (several adapters are served unmerged).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions o)
    {
        var errors = new List<string>();
        if (o.Port is < 0 or > 65535)
            errors.Add($"server.port: must be between 0 and 65535, got {o.Port}.");
        if (string.IsNullOrWhiteSpace(o.Host))
            errors.Add("server.host: must not be empty.");
        if (o.MaxRequestBodyBytes < 1024)
            errors.Add($"server.max_request_body_bytes: must be at least 1024, got {o.MaxRequestBodyBytes}.");
        for (int i = 0; i < o.ApiKeys.Count; i++)
            if (string.IsNullOrWhiteSpace(o.ApiKeys[i]))
                errors.Add($"server.api_keys[{i}]: must not be empty.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public sealed class GenerationDefaultsValidator : IValidateOptions<GenerationDefaultsOptions>
{
    public ValidateOptionsResult Validate(string? name, GenerationDefaultsOptions o)
    {
        var errors = new List<string>();
        if (o.Temperature is < 0 or > 2) errors.Add($"generation.temperature: must be in [0, 2], got {o.Temperature}.");
        if (o.TopP is <= 0 or > 1) errors.Add($"generation.top_p: must be in (0, 1], got {o.TopP}.");
        if (o.TopK is < -1) errors.Add($"generation.top_k: must be -1, 0 (off) or positive, got {o.TopK}.");
        if (o.MinP is < 0 or > 1) errors.Add($"generation.min_p: must be in [0, 1], got {o.MinP}.");
        if (o.RepetitionPenalty is <= 0 or > 2) errors.Add($"generation.repetition_penalty: must be in (0, 2], got {o.RepetitionPenalty}.");
        if (o.MaxTokens < 1) errors.Add($"generation.max_tokens: must be at least 1, got {o.MaxTokens}.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

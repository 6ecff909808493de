using Microsoft.Extensions.Options;
using QwenAspire.Engine.Generation;

namespace QwenAspire.InferenceApi.Options;

/// <summary>
/// Reads the <c>engine</c> section into the engine's <see cref="EngineOptions"/>, in service_config.yaml's
/// snake_case (max_queue_length) as well as the class's own names (MaxQueueLength).
/// </summary>
public sealed class EngineOptionsSetup(IConfiguration configuration) : IConfigureOptions<EngineOptions>
{
    public const string Section = "engine";

    public void Configure(EngineOptions o)
    {
        var s = configuration.GetSection(Section);
        s.Bind(o);
        o.MaxQueueLength = s.GetValue("max_queue_length", o.MaxQueueLength);
        o.MaxRunningSequences = s.GetValue("max_running_sequences", o.MaxRunningSequences);
        o.MaxBatchedTokens = s.GetValue("max_batched_tokens", o.MaxBatchedTokens);
        o.PrefixCaching = s.GetValue("prefix_caching", o.PrefixCaching);
        o.MaxLogprobs = s.GetValue("max_logprobs", o.MaxLogprobs);
        if (s.GetValue<double?>("overload_retry_after_seconds") is { } retry) o.OverloadRetryAfter = TimeSpan.FromSeconds(retry);
        if (s.GetValue<double?>("shutdown_timeout_seconds") is { } shutdown) o.ShutdownTimeout = TimeSpan.FromSeconds(shutdown);
    }
}

public sealed class EngineOptionsValidator : IValidateOptions<EngineOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineOptions o)
    {
        try
        {
            o.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            // The engine names keys "Engine:MaxQueueLength"; say it the way service_config.yaml spells it.
            string key = ex.ParamName ?? EngineOptionsSetup.Section;
            string yamlKey = "engine." + System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(key[(key.IndexOf(':') + 1)..]);
            return ValidateOptionsResult.Fail($"{yamlKey}: {ex.Message.Split(" (Parameter")[0]}");
        }
    }
}

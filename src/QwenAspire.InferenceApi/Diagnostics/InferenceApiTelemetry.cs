using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.InferenceApi.Diagnostics;

/// <summary>
/// One span per generation request, named and tagged after the OpenTelemetry GenAI semantic conventions
/// (<c>{gen_ai.operation.name} {gen_ai.request.model}</c>, <c>gen_ai.*</c> attributes). Kind internal: the model
/// runs in this process, under the HTTP server span. ServiceDefaults listens to this source (and exports it).
/// </summary>
public static class InferenceApiTelemetry
{
    public const string SourceName = TelemetryNames.InferenceApiActivitySource;
    public const string ProviderName = "qwen-aspire";
    public static readonly ActivitySource Source = new(SourceName);

    /// <param name="operation"><c>chat</c> or <c>text_completion</c> (the conventions' well-known values).</param>
    /// <param name="apiType"><c>openai.api.type</c> (chat_completions, responses; completions is a custom value the conventions allow).</param>
    /// <param name="outputType"><c>gen_ai.output.type</c>: text or json.</param>
    public static Activity? StartGeneration(string operation, string model, SamplingParams sampling, string responseId, int choiceCount = 1,
        string? apiType = null, string? outputType = null)
    {
        var activity = Source.StartActivity($"{operation} {model}", ActivityKind.Internal);
        if (activity is null) return null;
        activity.SetTag("gen_ai.operation.name", operation);
        activity.SetTag("gen_ai.provider.name", ProviderName);
        activity.SetTag("gen_ai.system", ProviderName); // the name before semconv 1.37, still read by some backends
        activity.SetTag("gen_ai.request.model", model);
        activity.SetTag("gen_ai.request.max_tokens", sampling.MaxTokens);
        activity.SetTag("gen_ai.request.temperature", (double)sampling.Temperature);
        activity.SetTag("gen_ai.request.top_p", (double)sampling.TopP);
        if (sampling.TopK > 0) activity.SetTag("gen_ai.request.top_k", (double)sampling.TopK);
        if (sampling.Seed is { } seed) activity.SetTag("gen_ai.request.seed", seed);
        if (sampling.FrequencyPenalty != 0) activity.SetTag("gen_ai.request.frequency_penalty", (double)sampling.FrequencyPenalty);
        if (sampling.PresencePenalty != 0) activity.SetTag("gen_ai.request.presence_penalty", (double)sampling.PresencePenalty);
        if (sampling.StopStrings.Count > 0) activity.SetTag("gen_ai.request.stop_sequences", sampling.StopStrings.ToArray());
        if (choiceCount != 1) activity.SetTag("gen_ai.request.choice.count", choiceCount);
        if (apiType is not null) activity.SetTag("openai.api.type", apiType);
        if (outputType is not null) activity.SetTag("gen_ai.output.type", outputType);
        activity.SetTag("gen_ai.response.id", responseId);
        activity.SetTag("gen_ai.response.model", model);
        return activity;
    }

    public static void RecordResult(Activity? activity, int inputTokens, int outputTokens, IEnumerable<string?> finishReasons)
    {
        if (activity is null) return;
        activity.SetTag("gen_ai.usage.input_tokens", inputTokens);
        activity.SetTag("gen_ai.usage.output_tokens", outputTokens);
        activity.SetTag("gen_ai.response.finish_reasons", finishReasons.Where(r => r is not null).ToArray());
    }

    /// <summary>A request the engine refused or that failed: <c>error.type</c> and an error status, as the conventions ask.</summary>
    public static void RecordError(Activity? activity, string errorType, string? description = null)
    {
        if (activity is null) return;
        activity.SetTag("error.type", errorType);
        activity.SetStatus(ActivityStatusCode.Error, description);
    }
}

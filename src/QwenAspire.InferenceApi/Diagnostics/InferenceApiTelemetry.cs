using System.Diagnostics;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.InferenceApi.Diagnostics;

/// <summary>
/// Per-request spans with OpenTelemetry GenAI semantic-convention attributes (gen_ai.*). Exporters and
/// metrics are wired by ServiceDefaults/the observability work; this source only needs to be listened to.
/// </summary>
public static class InferenceApiTelemetry
{
    public const string SourceName = "QwenAspire.InferenceApi";
    public static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartGeneration(string operation, string model, SamplingParams sampling, string responseId)
    {
        var activity = Source.StartActivity($"{operation} {model}", ActivityKind.Internal);
        if (activity is null) return null;
        activity.SetTag("gen_ai.operation.name", operation);
        activity.SetTag("gen_ai.system", "qwen-aspire");
        activity.SetTag("gen_ai.request.model", model);
        activity.SetTag("gen_ai.request.max_tokens", sampling.MaxTokens);
        activity.SetTag("gen_ai.request.temperature", sampling.Temperature);
        activity.SetTag("gen_ai.request.top_p", sampling.TopP);
        if (sampling.TopK > 0) activity.SetTag("gen_ai.request.top_k", sampling.TopK);
        if (sampling.Seed is { } seed) activity.SetTag("gen_ai.request.seed", seed);
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
}

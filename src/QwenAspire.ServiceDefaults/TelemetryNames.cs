namespace Microsoft.Extensions.Hosting;

/// <summary>Names of the project's own telemetry sources, registered with OpenTelemetry by the service defaults.</summary>
public static class TelemetryNames
{
    /// <summary>The engine's meter: requests, tokens, TTFT/ITL histograms, queue depth, batch size, KV blocks.</summary>
    public const string InferenceMeter = "QwenAspire.Inference";

    /// <summary>The API's activity source: one span per request with OpenTelemetry GenAI attributes.</summary>
    public const string InferenceApiActivitySource = "QwenAspire.InferenceApi";

    /// <summary>The engine's activity source, should it trace steps of its own.</summary>
    public const string InferenceActivitySource = "QwenAspire.Inference";
}

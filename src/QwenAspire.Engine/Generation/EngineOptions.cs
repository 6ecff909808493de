namespace QwenAspire.Engine.Generation;

/// <summary>Engine loop settings (config section <see cref="SectionName"/>).</summary>
public sealed class EngineOptions
{
    public const string SectionName = "Engine";

    /// <summary>Requests waiting to be scheduled; one more is refused with <see cref="EngineOverloadedException"/> (HTTP 429).</summary>
    public int MaxQueueLength { get; set; } = 64;
    /// <summary>Sequences decoded concurrently (admitted from the queue while below this).</summary>
    public int MaxRunningSequences { get; set; } = 8;
    /// <summary>Prompt tokens one prefill step may take in; a single longer prompt still runs, alone.</summary>
    public int MaxPrefillTokens { get; set; } = 8192;
    /// <summary>Largest accepted <see cref="Sampling.SamplingParams.Logprobs"/> (OpenAI allows 20).</summary>
    public int MaxLogprobs { get; set; } = 20;
    /// <summary>The Retry-After a refused request is told.</summary>
    public TimeSpan OverloadRetryAfter { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>On dispose, running requests get this long to finish before they are aborted.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Value of the <c>model</c> tag on metrics for requests without an adapter.</summary>
    public string ModelName { get; set; } = "qwen3";

    /// <summary>Throws naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Positive(int v, string name)
        {
            if (v <= 0) throw new ArgumentOutOfRangeException($"{SectionName}:{name}", v, $"{SectionName}:{name} must be at least 1.");
        }
        Positive(MaxQueueLength, nameof(MaxQueueLength));
        Positive(MaxRunningSequences, nameof(MaxRunningSequences));
        Positive(MaxPrefillTokens, nameof(MaxPrefillTokens));
        if (MaxLogprobs < 0)
            throw new ArgumentOutOfRangeException($"{SectionName}:{nameof(MaxLogprobs)}", MaxLogprobs, "Must not be negative.");
        if (OverloadRetryAfter < TimeSpan.Zero || ShutdownTimeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException($"{SectionName}:{nameof(ShutdownTimeout)}", "Timeouts must not be negative.");
        if (string.IsNullOrWhiteSpace(ModelName))
            throw new ArgumentException($"{SectionName}:{nameof(ModelName)} must not be empty.", $"{SectionName}:{nameof(ModelName)}");
    }
}

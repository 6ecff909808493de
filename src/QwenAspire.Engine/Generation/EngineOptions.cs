namespace QwenAspire.Engine.Generation;

/// <summary>Engine loop settings (config section <see cref="SectionName"/>).</summary>
public sealed class EngineOptions
{
    public const string SectionName = "Engine";

    /// <summary>Requests waiting to be scheduled; one more is refused with <see cref="EngineOverloadedException"/> (HTTP 429).</summary>
    public int MaxQueueLength { get; set; } = 64;
    /// <summary>
    /// Sequences batched into each step (admitted from the queue while below this and the KV pool has room).
    /// A decode step reads every weight once whatever the batch, so on a CPU more sequences mostly add tokens
    /// per step, not time: 16 keeps a C=16 load from queueing behind 8 streams.
    /// </summary>
    public int MaxRunningSequences { get; set; } = 16;
    /// <summary>
    /// Tokens one engine step runs through the model: one per decoding sequence plus chunks of prompts
    /// (a longer prompt is split across steps). On a CPU a step costs about its token count in compute once
    /// past a few rows, so this caps how long running streams wait while a long prompt is prefilled (about
    /// the time of 256 prompt tokens) while still giving the matmuls enough rows to read each weight once for
    /// many tokens. GPUs want far more (vLLM uses 2048 and up).
    /// </summary>
    public int MaxBatchedTokens { get; set; } = 256;
    /// <summary>Reuse the KV blocks of identical prompt prefixes (same adapter) across requests.</summary>
    public bool PrefixCaching { get; set; } = true;
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
        Positive(MaxBatchedTokens, nameof(MaxBatchedTokens));
        if (MaxBatchedTokens < MaxRunningSequences)
            throw new ArgumentOutOfRangeException($"{SectionName}:{nameof(MaxBatchedTokens)}", MaxBatchedTokens,
                $"{SectionName}:{nameof(MaxBatchedTokens)} ({MaxBatchedTokens}) must be at least {SectionName}:{nameof(MaxRunningSequences)} ({MaxRunningSequences}): every running sequence decodes one token per step.");
        if (MaxLogprobs < 0)
            throw new ArgumentOutOfRangeException($"{SectionName}:{nameof(MaxLogprobs)}", MaxLogprobs, "Must not be negative.");
        if (OverloadRetryAfter < TimeSpan.Zero || ShutdownTimeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException($"{SectionName}:{nameof(ShutdownTimeout)}", "Timeouts must not be negative.");
        if (string.IsNullOrWhiteSpace(ModelName))
            throw new ArgumentException($"{SectionName}:{nameof(ModelName)} must not be empty.", $"{SectionName}:{nameof(ModelName)}");
    }
}

using QwenAspire.Engine.Sampling;

namespace QwenAspire.Engine.Generation;

/// <summary>Why a sequence ended (OpenAI's finish_reason values plus abort for cancellation).</summary>
public enum FinishReason { Stop, Length, Abort }

/// <summary>
/// One event of a running generation, streamed to the caller per decode step. <see cref="TextDelta"/>
/// is always whole UTF-8 characters and never contains (a prefix of) a stop string that may still
/// complete; text held back for that reason arrives in a later event or the final one.
/// </summary>
public sealed record GenerationOutput
{
    /// <summary>Token generated in this step (null on a final event that only flushes text, and on the prompt-logprobs event).</summary>
    public int? TokenId { get; init; }
    public string TextDelta { get; init; } = "";
    /// <summary>Chosen token's logprob, when requested.</summary>
    public TokenLogprob? Logprob { get; init; }
    /// <summary>Top-N alternatives for this step, when requested.</summary>
    public IReadOnlyList<TokenLogprob>? TopLogprobs { get; init; }
    /// <summary>
    /// With <see cref="SamplingParams.PromptLogprobs"/>: one entry per prompt token (the first null: nothing precedes it),
    /// on one event of its own before the first generated token (with max_tokens 0, the final event).
    /// </summary>
    public IReadOnlyList<PositionLogprobs?>? PromptLogprobs { get; init; }
    /// <summary>Set on the last event only.</summary>
    public FinishReason? Finish { get; init; }
    /// <summary>The stop string or stop token that ended generation, if any.</summary>
    public string? StopReason { get; init; }
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
}

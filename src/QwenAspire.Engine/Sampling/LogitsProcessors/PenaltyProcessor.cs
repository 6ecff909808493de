namespace QwenAspire.Engine.Sampling.LogitsProcessors;

/// <summary>Repetition, frequency and presence penalties (<see cref="PenaltyTracker"/>) as a pipeline stage.</summary>
public sealed class PenaltyProcessor(SamplingParams sampling, PenaltyTracker tracker) : ILogitsProcessor
{
    public PenaltyTracker Tracker => tracker;

    /// <summary>True when <paramref name="p"/> sets any penalty, i.e. the stage would change a row.</summary>
    public static bool IsActive(SamplingParams p) =>
        p.RepetitionPenalty != 1f || p.FrequencyPenalty != 0f || p.PresencePenalty != 0f;

    public void Process(Span<float> logits) => tracker.Apply(logits, sampling);

    public void OnGenerated(int tokenId) => tracker.OnGenerated(tokenId);
}

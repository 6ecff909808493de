namespace QwenAspire.Engine.Sampling;

/// <summary>
/// Per-sequence token statistics the penalties need, kept incrementally so a step costs O(distinct
/// tokens) instead of a pass over the whole history: the distinct ids of prompt + output (repetition
/// penalty, HF/vLLM) and the counts of generated ids (presence/frequency penalties, OpenAI).
/// </summary>
public sealed class PenaltyTracker
{
    private readonly HashSet<int> _seen = [];
    private readonly Dictionary<int, int> _generatedCounts = [];

    public PenaltyTracker(IEnumerable<int> promptTokens)
    {
        foreach (var t in promptTokens) _seen.Add(t);
    }

    /// <summary>Distinct token ids of prompt and output so far.</summary>
    public IReadOnlyCollection<int> Seen => _seen;
    /// <summary>How often each id was generated (prompt excluded).</summary>
    public IReadOnlyDictionary<int, int> GeneratedCounts => _generatedCounts;

    public void OnGenerated(int tokenId)
    {
        _seen.Add(tokenId);
        _generatedCounts[tokenId] = _generatedCounts.GetValueOrDefault(tokenId) + 1;
    }

    /// <summary>
    /// Applies the penalties in place, in vLLM's order: repetition (divide positive logits, multiply
    /// negative ones) over prompt + output, then <c>logit -= frequency·count + presence·[count&gt;0]</c>
    /// over the output.
    /// </summary>
    public void Apply(Span<float> logits, SamplingParams p)
    {
        if (p.RepetitionPenalty != 1f)
        {
            var r = p.RepetitionPenalty;
            foreach (var t in _seen)
            {
                if ((uint)t >= (uint)logits.Length) continue;
                var v = logits[t];
                logits[t] = v > 0 ? v / r : v * r;
            }
        }
        if (p.FrequencyPenalty != 0f || p.PresencePenalty != 0f)
        {
            foreach (var (t, count) in _generatedCounts)
            {
                if ((uint)t >= (uint)logits.Length) continue;
                logits[t] -= p.FrequencyPenalty * count + p.PresencePenalty;
            }
        }
    }
}


namespace QwenAspire.Engine.Sampling;

/// <summary>
/// log_softmax helpers over a logits row. The engine reports logprobs of the model's raw distribution
/// (before penalties, temperature and filters), which is vLLM's default (<c>logprobs_mode=raw_logprobs</c>).
/// </summary>
public static class Logprobs
{
    /// <summary>log Σ exp(logits), computed stably in double.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits) => LogSumExp(logits, new float[logits.Length]);

    /// <summary>As <see cref="LogSumExp(ReadOnlySpan{float})"/>, using <paramref name="scratch"/> (at least as long) for the exponentials.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits, Span<float> scratch)
    {
        var max = VectorMath.Max(logits);
        if (float.IsNegativeInfinity(max)) return double.NegativeInfinity;
        return max + Math.Log(VectorMath.ExpWeights(logits, max, 1f, float.NegativeInfinity, scratch[..logits.Length]));
    }

    /// <summary>The <paramref name="n"/> best tokens (higher logit, then lower id) with their logprobs, best first.</summary>
    public static TokenLogprob[] Top(ReadOnlySpan<float> logits, int n, double logSumExp)
    {
        n = Math.Min(n, logits.Length);
        if (n <= 0) return [];
        var ids = new int[n];
        var vals = new float[n];
        var count = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var v = logits[i];
            if (count == n && !(v > vals[n - 1])) continue;
            // Insertion into a tiny sorted array: N ≤ 20, and after the first few thousand tokens almost nothing gets in.
            var pos = count < n ? count++ : n - 1;
            while (pos > 0 && v > vals[pos - 1])
            {
                vals[pos] = vals[pos - 1];
                ids[pos] = ids[pos - 1];
                pos--;
            }
            vals[pos] = v;
            ids[pos] = i;
        }
        var result = new TokenLogprob[count];
        for (var i = 0; i < count; i++) result[i] = new TokenLogprob(ids[i], (float)(vals[i] - logSumExp));
        return result;
    }

    /// <summary>
    /// <paramref name="token"/>'s logprob under <paramref name="logits"/> and, when <paramref name="n"/> &gt; 0, the top
    /// <paramref name="n"/> (what both a sampled token and a prompt token report).
    /// </summary>
    public static PositionLogprobs Of(ReadOnlySpan<float> logits, int token, int n, Span<float> scratch)
    {
        var lse = LogSumExp(logits, scratch);
        return new PositionLogprobs(new TokenLogprob(token, (float)(logits[token] - lse)), n > 0 ? Top(logits, n, lse) : null);
    }
}

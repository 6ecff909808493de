using QwenAspire.Engine.Generation;

namespace QwenAspire.Engine.Sampling;

/// <summary>
/// Turns one logits row into a token. Order (vLLM's): repetition → frequency/presence penalties →
/// temperature (below <see cref="GreedyTemperature"/>: argmax, ties to the lowest id) → min_p → top_k →
/// top_p → draw from the sequence's own PRNG. Logprobs are of the raw model logits (vLLM's default).
/// Owns scratch buffers sized to the vocabulary, so use one instance per thread (the engine loop).
/// </summary>
public sealed class Sampler
{
    /// <summary>Temperatures below this sample greedily (vLLM uses the same cut-off).</summary>
    public const float GreedyTemperature = 1e-5f;
    /// <summary>First window for top-p when no top-k bounds the candidates; widened ×8 until the mass is reached.</summary>
    private const int TopPFirstWindow = 256;

    private Candidate[] _candidates = [];
    private float[] _raw = [];

    /// <summary>
    /// Picks the next token. <paramref name="logits"/> is modified in place (penalties); pass the
    /// sequence's per-step logits row, which the runner overwrites next step anyway.
    /// </summary>
    public SampleResult Sample(Span<float> logits, SamplingParams p, PenaltyTracker penalties, Xoshiro256StarStar rng)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(penalties);
        ArgumentNullException.ThrowIfNull(rng);
        if (logits.IsEmpty) throw new ArgumentException("Logits are empty.", nameof(logits));

        ReadOnlySpan<float> raw = default;
        if (p.Logprobs is not null)
        {
            if (_raw.Length < logits.Length) _raw = new float[logits.Length];
            logits.CopyTo(_raw);
            raw = _raw.AsSpan(0, logits.Length);
        }

        penalties.Apply(logits, p);
        var token = p.Temperature < GreedyTemperature ? VectorMath.ArgMax(logits) : Draw(logits, p, rng);

        if (p.Logprobs is not { } n) return new SampleResult(token, null, null);
        var lse = Logprobs.LogSumExp(raw);
        var chosen = new TokenLogprob(token, (float)(raw[token] - lse));
        return new SampleResult(token, chosen, n > 0 ? Logprobs.Top(raw, n, lse) : null);
    }

    private int Draw(Span<float> logits, SamplingParams p, Xoshiro256StarStar rng)
    {
        var max = VectorMath.Max(logits);
        if (float.IsNaN(max) || float.IsNegativeInfinity(max))
            throw new InvalidOperationException("The model produced no finite logits.");
        var invT = 1f / p.Temperature;
        // min_p keeps p_i ≥ min_p·p_max, i.e. logit_i ≥ max + T·ln(min_p) before scaling; checking raw logits saves a pass.
        var threshold = p.MinP > 0f ? max + p.Temperature * MathF.Log(p.MinP) : float.NegativeInfinity;
        var scaledMax = max * invT;

        if (_candidates.Length < logits.Length) _candidates = new Candidate[logits.Length];
        var n = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var v = logits[i];
            // The max itself always passes, even when rounding in the threshold would drop it.
            if ((v >= threshold || v == max) && !float.IsNegativeInfinity(v) && !float.IsNaN(v))
                _candidates[n++] = new Candidate(v * invT, i);
        }
        var items = _candidates.AsSpan(0, n);

        if (p.TopK > 0 && p.TopK < items.Length)
        {
            CandidateSelection.SelectBest(items, p.TopK);
            items = items[..p.TopK];
        }
        if (p.TopP < 1f) items = items[..NucleusSize(items, p.TopP, scaledMax)];

        double total = 0;
        foreach (var c in items) total += Math.Exp(c.Logit - scaledMax);
        var u = rng.NextDouble() * total;
        double cumulative = 0;
        foreach (var c in items)
        {
            cumulative += Math.Exp(c.Logit - scaledMax);
            if (u < cumulative) return c.Id;
        }
        return items[^1].Id; // u landed on the rounding gap at the very top
    }

    /// <summary>
    /// Sorts the best candidates to the front and returns how many form the nucleus: a token is kept
    /// while the mass of the tokens ranked above it is below top_p (HF/vLLM: drop the tail whose
    /// cumulative mass is ≤ 1 − top_p). Sorts only a window that grows until it holds the nucleus.
    /// </summary>
    private static int NucleusSize(Span<Candidate> items, float topP, float scaledMax)
    {
        double total = 0;
        foreach (var c in items) total += Math.Exp(c.Logit - scaledMax);
        var target = topP * total;
        var cmp = default(BetterFirst);
        for (var window = Math.Min(TopPFirstWindow, items.Length); ; window = Math.Min(items.Length, window * 8))
        {
            CandidateSelection.SelectBest(items, window);
            items[..window].Sort(cmp);
            double before = 0;
            for (var i = 0; i < window; i++)
            {
                if (before >= target) return Math.Max(i, 1);
                before += Math.Exp(items[i].Logit - scaledMax);
            }
            if (window == items.Length) return window;
        }
    }
}

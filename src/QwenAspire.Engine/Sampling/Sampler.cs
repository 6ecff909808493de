using QwenAspire.Engine.Sampling.LogitsProcessors;

namespace QwenAspire.Engine.Sampling;

/// <summary>
/// Turns one logits row into a token. Order (vLLM's): the sequence's logits processors (penalties →
/// logit_bias → constraint mask, <see cref="LogitsPipeline"/>) → temperature (below <see cref="GreedyTemperature"/>: argmax, ties to the lowest id) → min_p → top_k →
/// top_p → draw from the sequence's own PRNG. Logprobs are of the raw model logits (vLLM's default).
/// Owns scratch buffers sized to the vocabulary, so use one instance per thread (the engine loop).
/// </summary>
public sealed class Sampler
{
    /// <summary>Temperatures below this sample greedily (vLLM uses the same cut-off).</summary>
    public const float GreedyTemperature = 1e-5f;
    /// <summary>First window for top-p when no top-k bounds the candidates; widened ×8 until the mass is reached.</summary>
    private const int TopPFirstWindow = 256;

    /// <summary>Up to this top_k the k best are found by one insertion pass instead of a full candidate list.</summary>
    private const int InsertionTopKLimit = 128;

    private Candidate[] _candidates = [];
    private Candidate[] _topK = [];
    private float[] _weights = [];
    private float[] _raw = [];

    /// <summary>Penalties only: as the full overload with a <see cref="PenaltyProcessor"/> as the one stage.</summary>
    public SampleResult Sample(Span<float> logits, SamplingParams p, PenaltyTracker penalties, Xoshiro256StarStar rng) =>
        Sample(logits, p, new PenaltyProcessor(p, penalties), rng);

    /// <summary>
    /// Picks the next token. <paramref name="logits"/> is modified in place (by <paramref name="processors"/>);
    /// pass the sequence's per-step logits row, which the runner overwrites next step anyway. When the
    /// processors leave exactly one token possible (<see cref="IForcingProcessor"/>) it is taken without a draw.
    /// The caller tells <paramref name="processors"/> the chosen token (<see cref="ILogitsProcessor.OnGenerated"/>).
    /// </summary>
    public SampleResult Sample(Span<float> logits, SamplingParams p, ILogitsProcessor processors, Xoshiro256StarStar rng)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(processors);
        ArgumentNullException.ThrowIfNull(rng);
        if (logits.IsEmpty) throw new ArgumentException("Logits are empty.", nameof(logits));

        ReadOnlySpan<float> raw = default;
        if (p.Logprobs is not null)
        {
            if (_raw.Length < logits.Length) _raw = new float[logits.Length];
            logits.CopyTo(_raw);
            raw = _raw.AsSpan(0, logits.Length);
        }

        processors.Process(logits);
        var forced = processors is IForcingProcessor f ? f.ForcedToken : -1;
        var token = forced >= 0 ? forced
            : p.Temperature < GreedyTemperature ? VectorMath.ArgMax(logits) : Draw(logits, p, rng);

        if (p.Logprobs is not { } n) return new SampleResult(token, null, null);
        var lp = Logprobs.Of(raw, token, n, Buffer(ref _weights, raw.Length));
        return new SampleResult(token, lp.Chosen, lp.Top);
    }

    private int Draw(Span<float> logits, SamplingParams p, Xoshiro256StarStar rng)
    {
        var max = VectorMath.Max(logits);
        if (float.IsNaN(max) || float.IsNegativeInfinity(max))
            throw new InvalidOperationException("The model produced no finite logits.");
        var invT = 1f / p.Temperature;
        // min_p keeps p_i ≥ min_p·p_max, i.e. logit_i ≥ max + T·ln(min_p) before scaling; testing raw logits saves a pass.
        // The clamp keeps the max itself when rounding would push the threshold above it.
        var threshold = p.MinP > 0f ? MathF.Min(max + p.Temperature * MathF.Log(p.MinP), max) : float.NegativeInfinity;
        var scaledMax = max * invT;
        var topK = p.TopK > 0 && p.TopK < logits.Length ? p.TopK : 0;
        var weights = Buffer(ref _weights, logits.Length);

        if (topK == 0 && p.TopP >= 1f)
        {
            // No ranking needed: one vectorised pass of weights, then walk them.
            var sum = VectorMath.ExpWeights(logits, max, invT, threshold, weights);
            return Pick(weights, sum, rng);
        }

        Span<Candidate> items;
        double total;
        if (topK is > 0 and <= InsertionTopKLimit)
        {
            items = TopKByInsertion(logits, topK, threshold, invT);
            total = SumWeights(items, scaledMax);
        }
        else
        {
            total = VectorMath.ExpWeights(logits, max, invT, threshold, weights);
            var all = Buffer(ref _candidates, logits.Length);
            var n = 0;
            for (var i = 0; i < logits.Length; i++)
            {
                if (weights[i] > 0f) all[n++] = new Candidate(logits[i] * invT, i);
            }
            items = all[..n];
            if (topK > 0 && topK < n)
            {
                CandidateSelection.SelectBest(items, topK);
                items = items[..topK];
                total = SumWeights(items, scaledMax);
            }
        }
        if (p.TopP < 1f)
        {
            items = items[..NucleusSize(items, p.TopP * total, scaledMax)];
            total = SumWeights(items, scaledMax);
        }

        var u = rng.NextDouble() * total;
        double cumulative = 0;
        var last = items[0].Id;
        foreach (var c in items)
        {
            var w = Math.Exp(c.Logit - scaledMax);
            if (w <= 0) continue;
            cumulative += w;
            last = c.Id;
            if (u < cumulative) return c.Id;
        }
        return last; // u landed in the rounding gap at the very top
    }

    private static int Pick(ReadOnlySpan<float> weights, double total, Xoshiro256StarStar rng)
    {
        var u = rng.NextDouble() * total;
        double cumulative = 0;
        var last = -1;
        for (var i = 0; i < weights.Length; i++)
        {
            if (weights[i] <= 0f) continue;
            cumulative += weights[i];
            last = i;
            if (u < cumulative) return i;
        }
        return last;
    }

    /// <summary>
    /// The k best finite logits above the min_p threshold, best first, in one pass: after the first few
    /// thousand tokens almost every logit fails the comparison with the current k-th best.
    /// </summary>
    private Span<Candidate> TopKByInsertion(ReadOnlySpan<float> logits, int k, float threshold, float invT)
    {
        var best = Buffer(ref _topK, k);
        var count = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var v = logits[i];
            if (!(v >= threshold) || float.IsNegativeInfinity(v)) continue;
            if (count == k && !(v > best[k - 1].Logit)) continue;
            var pos = count < k ? count++ : k - 1;
            while (pos > 0 && v > best[pos - 1].Logit)
            {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = new Candidate(v, i);
        }
        for (var i = 0; i < count; i++) best[i] = best[i] with { Logit = best[i].Logit * invT };
        return best[..count];
    }

    private static double SumWeights(ReadOnlySpan<Candidate> items, float scaledMax)
    {
        double total = 0;
        foreach (var c in items) total += Math.Exp(c.Logit - scaledMax);
        return total;
    }

    private static Span<T> Buffer<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
        return buffer.AsSpan(0, length);
    }

    /// <summary>
    /// Sorts the best candidates to the front and returns how many form the nucleus: a token is kept
    /// while the mass of the tokens ranked above it is below top_p (HF/vLLM: drop the tail whose
    /// cumulative mass is ≤ 1 − top_p). Sorts only a window that grows until it holds the nucleus.
    /// </summary>
    private static int NucleusSize(Span<Candidate> items, double target, float scaledMax)
    {
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

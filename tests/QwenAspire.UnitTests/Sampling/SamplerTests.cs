using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Sampling;

public sealed class SamplerTests
{
    private static readonly float[] s_probs = [0.5f, 0.3f, 0.15f, 0.05f];

    private static float[] LogitsOf(params float[] probs) => [.. probs.Select(p => MathF.Log(p))];

    private static int[] Draw(float[] logits, SamplingParams p, int count, long seed = 1234)
    {
        var sampler = new Sampler();
        var rng = new Xoshiro256StarStar(seed);
        var penalties = new PenaltyTracker([]);
        var result = new int[count];
        for (var i = 0; i < count; i++) result[i] = sampler.Sample((float[])logits.Clone(), p, penalties, rng).TokenId;
        return result;
    }

    private static SortedSet<int> DrawnSet(float[] logits, SamplingParams p) => [.. Draw(logits, p, 4000)];

    [Fact]
    public void GreedyPicksTheArgmaxAndTheLowestIdOnTies()
    {
        var p = new SamplingParams { Temperature = 0 };
        Assert.Equal([1, 1, 1], Draw([1f, 5f, 5f, 2f], p, 3));
        Assert.Equal([3], Draw([-3f, -2f, -9f, -1f], p, 1));
    }

    [Fact]
    public void TemperatureOneDrawsFromTheSoftmax()
    {
        var draws = Draw(LogitsOf(1f / 7, 2f / 7, 4f / 7), new SamplingParams { Temperature = 1 }, 20_000);
        Assert.InRange(draws.Count(t => t == 0) / 20_000.0, 1 / 7.0 - 0.015, 1 / 7.0 + 0.015);
        Assert.InRange(draws.Count(t => t == 2) / 20_000.0, 4 / 7.0 - 0.015, 4 / 7.0 + 0.015);
    }

    [Fact]
    public void LowTemperatureSharpensTheDistribution()
    {
        // T = 0.5 squares the probabilities: 1:4:16.
        var draws = Draw(LogitsOf(1f / 7, 2f / 7, 4f / 7), new SamplingParams { Temperature = 0.5f }, 20_000);
        Assert.InRange(draws.Count(t => t == 2) / 20_000.0, 16 / 21.0 - 0.015, 16 / 21.0 + 0.015);
        Assert.InRange(draws.Count(t => t == 0) / 20_000.0, 1 / 21.0 - 0.01, 1 / 21.0 + 0.01);
    }

    [Fact]
    public void TopKKeepsExactlyTheKBestTokens()
    {
        float[] logits = [0.1f, 2f, -1f, 1.5f, 1.9f, 0f];
        Assert.Equal([1, 4], DrawnSet(logits, new SamplingParams { TopK = 2 }));
        Assert.Equal([1, 3, 4], DrawnSet(logits, new SamplingParams { TopK = 3 }));
        Assert.Equal([0, 1, 2, 3, 4, 5], DrawnSet(logits, new SamplingParams { TopK = 0 }));
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingTheMass()
    {
        var logits = LogitsOf(s_probs);
        Assert.Equal([0], DrawnSet(logits, new SamplingParams { TopP = 0.45f }));
        Assert.Equal([0, 1], DrawnSet(logits, new SamplingParams { TopP = 0.75f }));
        Assert.Equal([0, 1, 2], DrawnSet(logits, new SamplingParams { TopP = 0.85f }));
        Assert.Equal([0, 1, 2, 3], DrawnSet(logits, new SamplingParams { TopP = 0.97f }));
    }

    [Fact]
    public void TopPAppliesAfterTopK()
    {
        // Top-2 renormalised is 0.625/0.375, so top_p 0.6 keeps only the best.
        Assert.Equal([0], DrawnSet(LogitsOf(s_probs), new SamplingParams { TopK = 2, TopP = 0.6f }));
    }

    [Fact]
    public void MinPKeepsTokensAboveAFractionOfTheBest()
    {
        var logits = LogitsOf(s_probs);
        Assert.Equal([0, 1, 2], DrawnSet(logits, new SamplingParams { MinP = 0.25f }));
        Assert.Equal([0, 1], DrawnSet(logits, new SamplingParams { MinP = 0.5f }));
        // At T = 2 probabilities flatten but min_p compares the scaled distribution: √0.05/√0.5 ≈ 0.32 ≥ 0.3.
        Assert.Equal([0, 1, 2, 3], DrawnSet(logits, new SamplingParams { MinP = 0.3f, Temperature = 2f }));
    }

    [Fact]
    public void TopPOnAFullFlatVocabularyKeepsTheLowestIdsUpToTheMass()
    {
        // All ties: the nucleus is the lowest ids, and the selection window must grow to the whole vocabulary.
        const int vocab = 151_936;
        var logits = new float[vocab];
        var draws = Draw(logits, new SamplingParams { TopP = 0.5f }, 30);
        Assert.All(draws, t => Assert.True(t < vocab / 2 + 1, $"token {t} is outside the nucleus"));
        Assert.True(draws.Max() > vocab / 8, "draws should spread over the nucleus");
    }

    [Fact]
    public void SameSeedGivesTheSameTokensAndDifferentSeedsDiffer()
    {
        var logits = new float[1000];
        for (var i = 0; i < logits.Length; i++) logits[i] = (i * 7919 % 1000) / 250f;
        var p = new SamplingParams { Temperature = 1, TopP = 0.95f, TopK = 50 };
        var a = Draw(logits, p, 64, seed: 42);
        var b = Draw(logits, p, 64, seed: 42);
        var c = Draw(logits, p, 64, seed: 43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void PenaltiesFollowTheHuggingFaceAndOpenAiFormulas()
    {
        var tracker = new PenaltyTracker([1]);
        tracker.OnGenerated(2);
        tracker.OnGenerated(2);
        tracker.OnGenerated(3);
        float[] logits = [1f, 2f, -2f, 0.5f, 3f];
        tracker.Apply(logits, new SamplingParams { RepetitionPenalty = 2f, FrequencyPenalty = 0.5f, PresencePenalty = 0.25f });
        // 0, 4 untouched; 1 only in the prompt: 2/2; 2: -2·2 − 0.5·2 − 0.25; 3: 0.5/2 − 0.5 − 0.25.
        Assert.Equal([1f, 1f, -5.25f, -0.5f, 3f], logits);
    }

    [Fact]
    public void RepetitionPenaltyChangesTheGreedyChoice()
    {
        var sampler = new Sampler();
        var penalties = new PenaltyTracker([0]);
        var p = new SamplingParams { Temperature = 0, RepetitionPenalty = 1.5f };
        Assert.Equal(1, sampler.Sample(new float[] { 3f, 2.5f, 1f }, p, penalties, new Xoshiro256StarStar(1)).TokenId);
    }

    [Fact]
    public void LogprobsAreTheLogSoftmaxOfTheRawLogits()
    {
        var rnd = new Random(7);
        var logits = new float[500];
        for (var i = 0; i < logits.Length; i++) logits[i] = (float)(rnd.NextDouble() * 10 - 5);
        var raw = (float[])logits.Clone();
        var max = raw.Max();
        var lse = max + Math.Log(raw.Sum(v => Math.Exp(v - max)));

        var penalties = new PenaltyTracker([.. Enumerable.Range(0, 50)]);
        var p = new SamplingParams { Temperature = 0.7f, RepetitionPenalty = 1.3f, Logprobs = 5 };
        var result = new Sampler().Sample(logits, p, penalties, new Xoshiro256StarStar(3));

        Assert.Equal(result.TokenId, result.Logprob!.Value.TokenId);
        Assert.Equal(raw[result.TokenId] - lse, result.Logprob.Value.Logprob, 4);
        var expectedTop = raw.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(5).ToArray();
        Assert.Equal(expectedTop.Select(x => x.i), result.TopLogprobs!.Select(t => t.TokenId));
        for (var k = 0; k < 5; k++) Assert.Equal(expectedTop[k].v - lse, result.TopLogprobs![k].Logprob, 4);
    }

    [Fact]
    public void LogprobsZeroGivesOnlyTheChosenToken()
    {
        var r = new Sampler().Sample(new float[] { 0f, 1f }, new SamplingParams { Temperature = 0, Logprobs = 0 },
            new PenaltyTracker([]), new Xoshiro256StarStar(1));
        Assert.Null(r.TopLogprobs);
        Assert.Equal(1 - Math.Log(1 + Math.E), r.Logprob!.Value.Logprob, 5);
    }

    [Fact]
    public void SeededGeneratorIsUniformInTheUnitInterval()
    {
        var rng = new Xoshiro256StarStar(99);
        var values = Enumerable.Range(0, 10_000).Select(_ => rng.NextDouble()).ToArray();
        Assert.All(values, v => Assert.InRange(v, 0.0, 0.999999999));
        Assert.InRange(values.Average(), 0.49, 0.51);
        Assert.NotEqual(new Xoshiro256StarStar(1).NextUInt64(), new Xoshiro256StarStar(2).NextUInt64());
    }
}

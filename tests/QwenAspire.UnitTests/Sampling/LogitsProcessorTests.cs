using QwenAspire.Engine.Sampling;
using QwenAspire.Engine.Sampling.LogitsProcessors;

namespace QwenAspire.UnitTests.Sampling;

public sealed class LogitsProcessorTests
{
    [Fact]
    public void BanningTheGreedyTokenWithMinus100ChangesTheGreedyPick()
    {
        float[] logits = [1f, 5f, 4.5f, -2f];
        var plain = new SamplingParams { Temperature = 0 };
        Assert.Equal(1, Pick(logits, plain));

        var banned = plain with { LogitBias = new Dictionary<int, float> { [1] = -100f } };
        Assert.Equal(2, Pick(logits, banned));
    }

    [Fact]
    public void PlusHundredForcesATokenEvenWhenSampling()
    {
        float[] logits = [3f, 2f, 1f, 0f, -1f];
        var p = new SamplingParams { Temperature = 1.5f, Seed = 5, LogitBias = new Dictionary<int, float> { [4] = 100f } };
        var sampler = new Sampler();
        var rng = new Xoshiro256StarStar(5);
        for (var i = 0; i < 50; i++)
        {
            var pipeline = LogitsPipeline.Create(p, []);
            Assert.Equal(4, sampler.Sample((float[])logits.Clone(), p, pipeline, rng).TokenId);
        }
    }

    [Fact]
    public void BanIsExactSoNoTemperatureBringsTheTokenBack()
    {
        var row = new float[] { 0f, 1000f };
        new LogitBiasProcessor(new Dictionary<int, float> { [1] = -100f }).Process(row);
        Assert.True(float.IsNegativeInfinity(row[1]));
        var small = new float[] { 0f, 1f };
        new LogitBiasProcessor(new Dictionary<int, float> { [1] = -0.5f, [0] = 2f }).Process(small);
        Assert.Equal([2f, 0.5f], small);
    }

    [Fact]
    public void PipelineRunsPenaltiesBeforeBiasAndLeavesOutNeutralStages()
    {
        Assert.Empty(LogitsPipeline.Create(new SamplingParams(), [1, 2]).Stages);
        var p = new SamplingParams { RepetitionPenalty = 2f, LogitBias = new Dictionary<int, float> { [0] = 1f } };
        var pipeline = LogitsPipeline.Create(p, [0]);
        Assert.Collection(pipeline.Stages, s => Assert.IsType<PenaltyProcessor>(s), s => Assert.IsType<LogitBiasProcessor>(s));
        float[] row = [4f, 1f];
        pipeline.Process(row);
        Assert.Equal([3f, 1f], row); // 4 / 2 (penalty on the prompt token) + 1 (bias), not (4 + 1) / 2

        pipeline.OnGenerated(1);
        float[] next = [4f, 1f];
        pipeline.Process(next);
        Assert.Equal([3f, 0.5f], next); // token 1 is now seen too
    }

    [Fact]
    public void LogitBiasIsValidatedAgainstTheVocabularyAndRange()
    {
        var outside = new SamplingParams { LogitBias = new Dictionary<int, float> { [10] = 1f } };
        Assert.Equal("logit_bias", Assert.ThrowsAny<ArgumentException>(() => SamplingParamsValidation.Validate(outside, 20, vocabSize: 10)).ParamName);
        var tooBig = new SamplingParams { LogitBias = new Dictionary<int, float> { [1] = 101f } };
        Assert.Equal("logit_bias", Assert.ThrowsAny<ArgumentException>(() => SamplingParamsValidation.Validate(tooBig, 20, vocabSize: 10)).ParamName);
        SamplingParamsValidation.Validate(new SamplingParams { LogitBias = new Dictionary<int, float> { [9] = -100f } }, 20, vocabSize: 10);
    }

    private static int Pick(float[] logits, SamplingParams p) =>
        new Sampler().Sample((float[])logits.Clone(), p, LogitsPipeline.Create(p, []), new Xoshiro256StarStar(1)).TokenId;
}

using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Lora;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>
/// The tiny bf16 fixture quantized at load: every linear (lm_head included) is replaced, decode logits stay close to
/// the bf16 path (bench-quality measures int8 mean KL ≈ 0.0015, int4 ≈ 0.33 nats on this random model), and a
/// merge after quantization is refused with a message naming the order.
/// </summary>
[Collection(TinyModelsCollection.Name)]
public sealed class QuantizedModelTests(TinyModels models)
{
    [Theory]
    [InlineData(WeightQuantization.Int8, 0.01)]
    [InlineData(WeightQuantization.Int4, 1.5)]
    public void DecodeLogitsStayCloseToTheBf16Path(WeightQuantization mode, double maxMeanKl)
    {
        using var reference = Qwen3ForCausalLM.Load(models.Bf16, new ModelLoadOptions { DType = "bf16" });
        using var quantized = Qwen3ForCausalLM.Load(models.Bf16, new ModelLoadOptions { DType = "bf16", Quantization = mode });
        Assert.Equal(mode, quantized.Quantization);
        Assert.All(quantized.Linears.Values, l => Assert.IsType<QuantizedWeight>(l.Weight));
        Assert.IsType<QuantizedWeight>(quantized.LmHead.Weight);
        Assert.Equal(ScalarType.BFloat16, quantized.EmbedTokens.dtype);

        using var scope = NewDisposeScope();
        const int Steps = 24, BlockSize = 16, Blocks = (Steps + BlockSize - 1) / BlockSize;
        using var refCache = new PagedKvCache(reference.Config, BlockSize, Blocks, ScalarType.Float32, reference.Device);
        using var qCache = new PagedKvCache(quantized.Config, BlockSize, Blocks, ScalarType.Float32, quantized.Device);
        var refPool = new PagedSequences(BlockSize, Blocks);
        var qPool = new PagedSequences(BlockSize, Blocks);
        var (refSequence, qSequence) = (refPool.Add(), qPool.Add());
        var random = new Random(5);
        double kl = 0;
        for (var i = 0; i < Steps; i++)
        {
            var token = random.Next(0, reference.Config.VocabSize);
            var p = reference.Forward(refPool.Step(refSequence, [token]), refCache).to(ScalarType.Float64).log_softmax(-1);
            var q = quantized.Forward(qPool.Step(qSequence, [token]), qCache).to(ScalarType.Float64).log_softmax(-1);
            kl += p.exp().mul(p.sub(q)).sum().item<double>();
        }
        // Garbage weights (a wrong layout or scale) give several nats; the bound is a few times the measured mean.
        Assert.InRange(kl / Steps, 0, maxMeanKl);
        Assert.True(kl > 0, "a quantized model identical to bf16 means quantization did not happen");
    }

    [Fact]
    public void MergingIntoAQuantizedModelIsRefused()
    {
        using var model = Qwen3ForCausalLM.Load(models.Bf16, new ModelLoadOptions { DType = "bf16", Quantization = WeightQuantization.Int8 });
        using var lora = LoraAdapter.Load("lora-all", models.LoraAll, model.Config);
        var error = Assert.Throws<InvalidOperationException>(() => model.MergeAdapter(lora));
        Assert.Contains("merge adapter 'lora-all' into the float weights first", error.Message);
        Assert.Null(model.MergedAdapter);
    }

    [Fact]
    public void GroupSizesThatAreNotMultiplesOf32AreRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Qwen3ForCausalLM.Load(models.Bf16, new ModelLoadOptions { DType = "bf16", Quantization = WeightQuantization.Int4, QuantizationGroupSize = 48 }));
        Assert.Contains("multiple of 32", error.Message);
    }
}

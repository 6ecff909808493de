using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Weights;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>int4's Q4_K_M-like mix: which weights keep int8, by llama.cpp's use_more_bits rule, and nothing else changes.</summary>
[Collection(TinyModelsCollection.Name)]
public sealed class QuantizationMixTests(TinyModels models)
{
    [Fact]
    public void Int4KeepsInt8ForVAndDownInTheLayersThatNeedMoreBits()
    {
        // 28 layers (Qwen3-1.7B): layers 0-2 and 24-27, then every third from 5: 5, 8, ..., 23.
        int[] more = [0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27];
        Assert.Equal(more, Enumerable.Range(0, 28).Where(l => QuantizationMix.MoreBits(l, 28)));
        Assert.Equal(WeightQuantization.Int4, QuantizationMix.ModeFor(Qwen3Weights.LmHead, WeightQuantization.Int4, 28));
        foreach (var layer in Enumerable.Range(0, 28))
        {
            var expected = more.Contains(layer) ? WeightQuantization.Int8 : WeightQuantization.Int4;
            Assert.Equal(expected, QuantizationMix.ModeFor(Qwen3Weights.Layer(layer, "self_attn.v_proj"), WeightQuantization.Int4, 28));
            Assert.Equal(expected, QuantizationMix.ModeFor(Qwen3Weights.Layer(layer, "mlp.down_proj"), WeightQuantization.Int4, 28));
            foreach (var other in new[] { "self_attn.q_proj", "self_attn.k_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj" })
                Assert.Equal(WeightQuantization.Int4, QuantizationMix.ModeFor(Qwen3Weights.Layer(layer, other), WeightQuantization.Int4, 28));
        }
        // int8 and none are uniform.
        Assert.Equal(WeightQuantization.Int8, QuantizationMix.ModeFor(Qwen3Weights.Layer(0, "mlp.down_proj"), WeightQuantization.Int8, 28));
        Assert.Equal(WeightQuantization.Int8, QuantizationMix.ModeFor(Qwen3Weights.LmHead, WeightQuantization.Int8, 28));
    }

    [Fact]
    public void ALoadedInt4ModelFollowsTheMix()
    {
        using var model = Qwen3ForCausalLM.Load(models.Bf16, new ModelLoadOptions { DType = "bf16", Quantization = WeightQuantization.Int4 });
        var layers = model.Config.NumHiddenLayers;
        Assert.Equal(WeightQuantization.Int4, model.LmHead.Weight.Quantization);
        foreach (var (name, linear) in model.Linears)
            Assert.Equal(QuantizationMix.ModeFor(name, WeightQuantization.Int4, layers), linear.Weight.Quantization);
        Assert.Contains(model.Linears.Values, l => l.Weight.Quantization == WeightQuantization.Int4);
    }
}

namespace QwenAspire.Engine.Model.Weights;

/// <summary>
/// Which format each weight of a model gets under a quantization mode. int4 follows llama.cpp's Q4_K_M recipe for
/// the layers: v_proj and down_proj in the layers where errors cost most (the first and last eighth, and every third
/// between) keep more bits (int8 here, Q6_K there); every other weight, the lm_head included, is int4. Measured on the
/// 1.7B shapes (bench-quality --text, the stream llama-perplexity scores): uniform int4 gave KL 0.122 nats against
/// Q4_K_M's 0.090 on the same weights and text; an int8 lm_head alone only 0.121 (it costs 150 MB a token), the
/// layers' mix 0.089 with an int8 lm_head.
/// </summary>
public static class QuantizationMix
{
    /// <summary>The format of weight <paramref name="name"/> (HF module name, or <see cref="Qwen3Weights.LmHead"/>) of a <paramref name="layers"/>-layer model.</summary>
    public static WeightQuantization ModeFor(string name, WeightQuantization mode, int layers)
    {
        if (mode != WeightQuantization.Int4) return mode;
        if (!(name.EndsWith(".self_attn.v_proj", StringComparison.Ordinal) || name.EndsWith(".mlp.down_proj", StringComparison.Ordinal))) return mode;
        return LayerOf(name) is { } layer && MoreBits(layer, layers) ? WeightQuantization.Int8 : mode;
    }

    /// <summary>llama.cpp's <c>use_more_bits</c>: the first and last eighth of the layers, and every third in between.</summary>
    public static bool MoreBits(int layer, int layers) => layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    private static int? LayerOf(string name)
    {
        const string Prefix = "model.layers.";
        if (!name.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var end = name.IndexOf('.', Prefix.Length);
        return end > Prefix.Length && int.TryParse(name.AsSpan(Prefix.Length, end - Prefix.Length), out var layer) ? layer : null;
    }
}

namespace QwenAspire.Engine.Model;

/// <summary>The tensors a Qwen3 checkpoint must hold, by HF name, with their shapes.</summary>
public static class Qwen3Weights
{
    public const string EmbedTokens = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";

    /// <summary>The per-layer linear modules a LoRA adapter may target (HF short names).</summary>
    public static IReadOnlyList<string> LinearModules { get; } =
        ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

    public static string Layer(int layer, string module) => $"model.layers.{layer}.{module}";

    /// <summary>Shape [out, in] of a per-layer linear module.</summary>
    public static long[] LinearShape(Qwen3Config c, string module) => module switch
    {
        "self_attn.q_proj" => [(long)c.NumAttentionHeads * c.HeadDim, c.HiddenSize],
        "self_attn.k_proj" or "self_attn.v_proj" => [(long)c.KeyValueHeads * c.HeadDim, c.HiddenSize],
        "self_attn.o_proj" => [c.HiddenSize, (long)c.NumAttentionHeads * c.HeadDim],
        "mlp.gate_proj" or "mlp.up_proj" => [c.IntermediateSize, c.HiddenSize],
        "mlp.down_proj" => [c.HiddenSize, c.IntermediateSize],
        _ => throw new ArgumentException($"'{module}' is not a Qwen3 linear module.", nameof(module)),
    };

    /// <summary>Every tensor name with its shape, in ordinal name order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Expected(Qwen3Config c)
    {
        var list = new List<(string, long[])> { (EmbedTokens, [c.VocabSize, c.HiddenSize]), (FinalNorm, [c.HiddenSize]) };
        if (!c.TieWordEmbeddings) list.Add((LmHead, [c.VocabSize, c.HiddenSize]));
        for (var l = 0; l < c.NumHiddenLayers; l++)
        {
            foreach (var module in LinearModules) list.Add((Layer(l, module) + ".weight", LinearShape(c, module)));
            list.Add((Layer(l, "input_layernorm.weight"), [c.HiddenSize]));
            list.Add((Layer(l, "post_attention_layernorm.weight"), [c.HiddenSize]));
            list.Add((Layer(l, "self_attn.q_norm.weight"), [c.HeadDim]));
            list.Add((Layer(l, "self_attn.k_norm.weight"), [c.HeadDim]));
        }
        return [.. list.OrderBy(x => x.Item1, StringComparer.Ordinal)];
    }
}

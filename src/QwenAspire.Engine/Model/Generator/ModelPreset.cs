using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.Engine.Model.Generator;

/// <summary>
/// A random-weight Qwen3 checkpoint definition: config, storage dtype and the recipe's seed strings and
/// standard deviations. <c>tiny*</c> reproduce the tiny-qwen3 fixture bit for bit (seed 0).
/// </summary>
public sealed record ModelPreset(string Name, string SeedPrefix, JsonObject Config, SafeTensorDType DType,
    string LmHeadSeedPrefix, Func<string, double> MatrixStd)
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "tiny-untied", "tiny-bf16", "qwen3-1.7b"];

    public static ModelPreset Get(string name) => name switch
    {
        "tiny" => Tiny(tied: true, "float32", SafeTensorDType.F32, name),
        "tiny-untied" => Tiny(tied: false, "float32", SafeTensorDType.F32, name),
        "tiny-bf16" => Tiny(tied: true, "bfloat16", SafeTensorDType.BF16, name),
        "qwen3-1.7b" => new ModelPreset(name, "qwen3-1.7b/",
            HfConfig(hidden: 2048, intermediate: 6144, layers: 28, heads: 16, kvHeads: 8, headDim: 128, maxPositions: 40960,
                tied: true, dtype: "bfloat16", maxWindowLayers: 28),
            SafeTensorDType.BF16, "qwen3-1.7b/",
            // Small, HF-initializer-like scales keep activations finite; speed does not depend on values.
            _ => 0.02),
        _ => throw new ArgumentException($"unknown model preset '{name}'; known: {string.Join(", ", Names)}.", nameof(name)),
    };

    private static ModelPreset Tiny(bool tied, string torchDType, SafeTensorDType dtype, string name) =>
        new(name, "tiny-qwen3/",
            HfConfig(hidden: 64, intermediate: 192, layers: 2, heads: 4, kvHeads: 2, headDim: 32, maxPositions: 4096,
                tied: tied, dtype: torchDType, maxWindowLayers: 2),
            dtype, "tiny-qwen3-untied/", TinyStd);

    /// <summary>The fixture's standard deviations (README "Weight recipe", step 5).</summary>
    public static double TinyStd(string tensorName) => tensorName switch
    {
        Qwen3Weights.EmbedTokens or Qwen3Weights.LmHead => 0.5,
        _ when tensorName.EndsWith("down_proj.weight", StringComparison.Ordinal) => 0.15,
        _ => 0.25,
    };

    /// <summary>config.json with the keys and order transformers 4.51 writes for Qwen3.</summary>
    internal static JsonObject HfConfig(int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim, int maxPositions,
        bool tied, string dtype, int maxWindowLayers) => new()
    {
        ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
        ["attention_bias"] = false,
        ["attention_dropout"] = 0.0,
        ["bos_token_id"] = 151643,
        ["eos_token_id"] = 151645,
        ["head_dim"] = headDim,
        ["hidden_act"] = "silu",
        ["hidden_size"] = hidden,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = intermediate,
        ["max_position_embeddings"] = maxPositions,
        ["max_window_layers"] = maxWindowLayers,
        ["model_type"] = "qwen3",
        ["num_attention_heads"] = heads,
        ["num_hidden_layers"] = layers,
        ["num_key_value_heads"] = kvHeads,
        ["rms_norm_eps"] = 1e-06,
        ["rope_scaling"] = null,
        ["rope_theta"] = 1000000,
        ["sliding_window"] = null,
        ["tie_word_embeddings"] = tied,
        ["torch_dtype"] = dtype,
        ["transformers_version"] = "4.51.0",
        ["use_cache"] = true,
        ["use_sliding_window"] = false,
        ["vocab_size"] = 151936,
    };

    /// <summary>generation_config.json as Qwen3 ships it (and the fixture copies).</summary>
    public static JsonObject GenerationConfig() => new()
    {
        ["bos_token_id"] = 151643,
        ["do_sample"] = true,
        ["eos_token_id"] = new JsonArray(151645, 151643),
        ["pad_token_id"] = 151643,
        ["temperature"] = 0.6,
        ["top_k"] = 20,
        ["top_p"] = 0.95,
        ["transformers_version"] = "4.51.0",
    };
}

/// <summary>A PEFT LoRA adapter definition of the fixture (lora-all, lora-rs).</summary>
public sealed record AdapterPreset(string Name, int R, int Alpha, bool UseRsLora, IReadOnlyList<string> TargetModules, double StdA, double StdB)
{
    public static IReadOnlyList<string> Names { get; } = ["lora-all", "lora-rs"];

    public static AdapterPreset Get(string name) => name switch
    {
        "lora-all" => new(name, 4, 8, false, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], 0.3, 0.2),
        "lora-rs" => new(name, 8, 16, true, ["q_proj", "v_proj", "down_proj"], 0.1, 0.1),
        _ => throw new ArgumentException($"unknown adapter preset '{name}'; known: {string.Join(", ", Names)}.", nameof(name)),
    };
}

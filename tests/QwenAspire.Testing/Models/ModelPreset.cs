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
            CheckpointWriter.HfConfig(hidden: 2048, intermediate: 6144, layers: 28, heads: 16, kvHeads: 8, headDim: 128, maxPositions: 40960,
                tied: true, dtype: "bfloat16", maxWindowLayers: 28),
            SafeTensorDType.BF16, "qwen3-1.7b/",
            // Small, HF-initializer-like scales keep activations finite; speed does not depend on values.
            _ => 0.02),
        _ => throw new ArgumentException($"unknown model preset '{name}'; known: {string.Join(", ", Names)}.", nameof(name)),
    };

    private static ModelPreset Tiny(bool tied, string torchDType, SafeTensorDType dtype, string name) =>
        new(name, DemoModel.SeedPrefix, DemoModel.Config(tied, torchDType), dtype, "tiny-qwen3-untied/", TinyStd);

    /// <summary>The fixture's standard deviations (README "Weight recipe", step 5).</summary>
    public static double TinyStd(string tensorName) => DemoModel.TinyStd(tensorName);
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

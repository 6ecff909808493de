using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.Engine.Model.Generator;

/// <summary>
/// The model the server generates and serves when none is configured: the tiny-qwen3 fixture's shape and
/// weights (random, so its answers are noise) with the real Qwen3 tokenizer and chat template.
/// </summary>
public static class DemoModel
{
    /// <summary>The recipe's seed strings start with it (the tiny fixture's).</summary>
    public const string SeedPrefix = "tiny-qwen3/";

    /// <summary>Writes the demo model into <paramref name="directory"/> (created if needed).</summary>
    public static GeneratedFile Write(string directory) =>
        CheckpointWriter.WriteModel(directory, Config(tied: true, "float32"), SafeTensorDType.F32, SeedPrefix, "tiny-qwen3-untied/", TinyStd);

    /// <summary>The tiny shape: 2 layers, hidden 64, 4 heads of 32 (2 KV heads), Qwen3's vocabulary.</summary>
    public static System.Text.Json.Nodes.JsonObject Config(bool tied, string torchDType) =>
        CheckpointWriter.HfConfig(hidden: 64, intermediate: 192, layers: 2, heads: 4, kvHeads: 2, headDim: 32, maxPositions: 4096,
            tied: tied, dtype: torchDType, maxWindowLayers: 2);

    /// <summary>The fixture's standard deviations (README "Weight recipe", step 5).</summary>
    public static double TinyStd(string tensorName) => tensorName switch
    {
        Qwen3Weights.EmbedTokens or Qwen3Weights.LmHead => 0.5,
        _ when tensorName.EndsWith("down_proj.weight", StringComparison.Ordinal) => 0.15,
        _ => 0.25,
    };
}

using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.Engine.Model.Generator;

/// <summary>
/// Writes random-weight Qwen3 HF folders (config, generation config, safetensors, real tokenizer) and PEFT
/// adapters from the portable recipe. Seed 0 keeps the preset's seed strings; any other seed prefixes
/// them with "seed{N}:" so different seeds give unrelated weights.
/// </summary>
public static class ModelGenerator
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>The server's demo model (the tiny preset) into <paramref name="directory"/>.</summary>
    public static GeneratedFile WriteDemoModel(string directory) => DemoModel.Write(directory);

    public static GeneratedFile Generate(string preset, string outDir, long seed = 0, IProgress<double>? progress = null)
    {
        var p = ModelPreset.Get(preset);
        var prefix = SeedPrefix(seed);
        return CheckpointWriter.WriteModel(outDir, p.Config, p.DType, prefix + p.SeedPrefix, prefix + p.LmHeadSeedPrefix, p.MatrixStd, progress);
    }

    /// <summary>Writes a PEFT adapter for <paramref name="basePreset"/>'s shapes (seed strings "&lt;adapter&gt;/&lt;tensor&gt;").</summary>
    public static GeneratedFile GenerateAdapter(string adapterPreset, string basePreset, string outDir, long seed = 0)
    {
        var a = AdapterPreset.Get(adapterPreset);
        var config = JsonSerializer.Deserialize<Qwen3Config>(ModelPreset.Get(basePreset).Config.ToJsonString())!;
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "adapter_config.json"), AdapterConfig(a, basePreset).ToJsonString(s_json) + "\n");
        var prefix = SeedPrefix(seed) + a.Name + "/";
        var tensors = new List<(string, long[], Action<Span<float>>)>();
        for (var l = 0; l < config.NumHiddenLayers; l++)
        {
            foreach (var module in Qwen3Weights.LinearModules.Where(m => a.TargetModules.Any(t => m.EndsWith("." + t, StringComparison.Ordinal))))
            {
                var shape = Qwen3Weights.LinearShape(config, module);
                var name = "base_model.model." + Qwen3Weights.Layer(l, module);
                tensors.Add((name + ".lora_A.weight", [a.R, shape[1]], CheckpointWriter.RecipeFill(prefix + name + ".lora_A.weight", a.StdA)));
                tensors.Add((name + ".lora_B.weight", [shape[0], a.R], CheckpointWriter.RecipeFill(prefix + name + ".lora_B.weight", a.StdB)));
            }
        }
        return CheckpointWriter.WriteTensors(Path.Combine(outDir, "adapter_model.safetensors"), tensors, SafeTensorDType.F32, null);
    }

    private static string SeedPrefix(long seed) => seed == 0 ? "" : $"seed{seed}:";

    private static JsonObject AdapterConfig(AdapterPreset a, string basePreset) => new()
    {
        ["alpha_pattern"] = new JsonObject(),
        ["auto_mapping"] = null,
        ["base_model_name_or_path"] = basePreset == "tiny" ? "tiny-qwen3" : basePreset,
        ["bias"] = "none",
        ["fan_in_fan_out"] = false,
        ["inference_mode"] = true,
        ["init_lora_weights"] = true,
        ["layers_pattern"] = null,
        ["layers_to_transform"] = null,
        ["lora_alpha"] = a.Alpha,
        ["lora_dropout"] = 0.0,
        ["modules_to_save"] = null,
        ["peft_type"] = "LORA",
        ["r"] = a.R,
        ["rank_pattern"] = new JsonObject(),
        ["revision"] = null,
        ["target_modules"] = new JsonArray([.. a.TargetModules.Select(t => (JsonNode?)JsonValue.Create(t))]),
        ["task_type"] = "CAUSAL_LM",
        ["use_dora"] = false,
        ["use_rslora"] = a.UseRsLora,
    };
}

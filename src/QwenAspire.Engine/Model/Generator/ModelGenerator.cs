using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Assets;
using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.Engine.Model.Generator;

/// <summary>A written safetensors file with the fixture's content sha256 (tensor bytes in ordinal name order).</summary>
public sealed record GeneratedFile(string Path, string ContentSha256, IReadOnlyDictionary<string, string> TensorSha256);

/// <summary>
/// Writes random-weight Qwen3 HF folders (config, generation config, safetensors, real tokenizer) and PEFT
/// adapters from the portable recipe. Seed 0 keeps the preset's seed strings; any other seed prefixes
/// them with "seed{N}:" so different seeds give unrelated weights.
/// </summary>
public static class ModelGenerator
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>Generates the embedded demo model (tiny preset + Qwen3 tokenizer) into <paramref name="directory"/>.</summary>
    public static GeneratedFile WriteDemoModel(string directory) => Generate("tiny", directory);

    public static GeneratedFile Generate(string preset, string outDir, long seed = 0, IProgress<double>? progress = null)
    {
        var p = ModelPreset.Get(preset);
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "config.json"), p.Config.ToJsonString(s_json) + "\n");
        File.WriteAllText(Path.Combine(outDir, "generation_config.json"), ModelPreset.GenerationConfig().ToJsonString(s_json) + "\n");
        Qwen3Assets.CopyTo(outDir);
        var config = JsonSerializer.Deserialize<Qwen3Config>(p.Config.ToJsonString())!;
        var prefix = SeedPrefix(seed);
        var tensors = Qwen3Weights.Expected(config).Select(e =>
        {
            var seedString = prefix + (e.Name == Qwen3Weights.LmHead ? p.LmHeadSeedPrefix : p.SeedPrefix) + e.Name;
            return (e.Name, e.Shape, RecipeFill(seedString, e.Shape.Length == 1 ? null : p.MatrixStd(e.Name)));
        }).ToList();
        return WriteTensors(Path.Combine(outDir, SafeTensorsCheckpoint.SingleFileName), tensors, p.DType, progress);
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
                tensors.Add((name + ".lora_A.weight", [a.R, shape[1]], RecipeFill(prefix + name + ".lora_A.weight", a.StdA)));
                tensors.Add((name + ".lora_B.weight", [shape[0], a.R], RecipeFill(prefix + name + ".lora_B.weight", a.StdB)));
            }
        }
        return WriteTensors(Path.Combine(outDir, "adapter_model.safetensors"), tensors, SafeTensorDType.F32, null);
    }

    private static string SeedPrefix(long seed) => seed == 0 ? "" : $"seed{seed}:";

    /// <summary>The recipe's values for a tensor: a matrix of standard deviation <paramref name="std"/>, or a norm weight when null.</summary>
    internal static Action<Span<float>> RecipeFill(string seedString, double? std) => values =>
    {
        if (std is { } s) WeightRecipe.FillMatrix(seedString, s, values);
        else WeightRecipe.FillNorm(seedString, values);
    };

    /// <summary>Writes <paramref name="tensors"/> (values produced on demand by each Fill) and hashes them as written.</summary>
    internal static GeneratedFile WriteTensors(string path, List<(string Name, long[] Shape, Action<Span<float>> Fill)> tensors,
        SafeTensorDType dtype, IProgress<double>? progress)
    {
        using var content = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var perTensor = new Dictionary<string, string>(StringComparer.Ordinal);
        var total = (double)tensors.Sum(t => t.Shape.Aggregate(1L, (x, y) => x * y));
        double done = 0;
        var toWrite = tensors.Select(t => new SafeTensorToWrite(t.Name, dtype, t.Shape, stream =>
        {
            var count = t.Shape.Aggregate(1L, (x, y) => x * y);
            var values = new float[count];
            t.Fill(values);
            byte[] bytes;
            if (dtype == SafeTensorDType.F32)
            {
                bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            }
            else if (dtype == SafeTensorDType.BF16)
            {
                var halves = new ushort[count];
                WeightRecipe.ToBFloat16(values, halves);
                bytes = MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
            }
            else
            {
                throw new NotSupportedException("the generator writes F32 or BF16.");
            }
            // The writer emits tensors in ordinal name order, so appending here yields the content hash.
            content.AppendData(bytes);
            perTensor[t.Name] = Convert.ToHexStringLower(SHA256.HashData(bytes));
            stream.Write(bytes);
            done += count;
            progress?.Report(done / total);
        })).ToList();
        SafeTensorsWriter.Write(path, toWrite);
        return new GeneratedFile(path, Convert.ToHexStringLower(content.GetHashAndReset()), perTensor);
    }

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

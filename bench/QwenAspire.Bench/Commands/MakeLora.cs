using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Generator;
using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>make-lora</c>: a random PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors, F32) for the
/// shapes of any Qwen3 HF folder, targeting all 7 projections of every layer: the mixed-adapter load of
/// bench-serve needs adapters of the benchmark model's shapes. Values follow the fixture's recipe with seed
/// strings "&lt;name&gt;/&lt;tensor&gt;", both A and B non-zero (PEFT's B = 0 would make a no-op adapter).
/// </summary>
internal static class MakeLora
{
    public const string UsageText = "make-lora       --model DIR --out DIR [--name NAME] [--r 16] [--alpha 32] [--std 0.02]";

    private static readonly string[] s_targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public static int Run(string[] args)
    {
        try
        {
            var cl = new CommandLine(args);
            string modelDir = cl.Require("model"), outDir = cl.Require("out");
            string name = cl.Get("name") ?? Path.GetFileName(Path.GetFullPath(outDir).TrimEnd('/'));
            int r = cl.Int("r", 16), alpha = cl.Int("alpha", 2 * r);
            double std = double.Parse(cl.Get("std") ?? "0.02", CultureInfo.InvariantCulture);
            if (r < 1) throw new ArgumentException("--r must be at least 1.");
            if (!(std > 0)) throw new ArgumentException("--std must be positive.");
            var config = Qwen3Config.Load(Path.Combine(modelDir, "config.json"));

            var tensors = new List<SafeTensorToWrite>();
            for (int l = 0; l < config.NumHiddenLayers; l++)
            {
                foreach (var module in Qwen3Weights.LinearModules)
                {
                    var shape = Qwen3Weights.LinearShape(config, module);   // [out, in]
                    string prefix = "base_model.model." + Qwen3Weights.Layer(l, module);
                    tensors.Add(Random(name, prefix + ".lora_A.weight", [r, shape[1]], std));
                    tensors.Add(Random(name, prefix + ".lora_B.weight", [shape[0], r], std));
                }
            }
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "adapter_config.json"),
                AdapterConfig(Path.GetFullPath(modelDir), r, alpha).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            SafeTensorsWriter.Write(Path.Combine(outDir, "adapter_model.safetensors"), tensors);
            Console.WriteLine($"wrote {outDir}: {tensors.Count} tensors, r={r}, lora_alpha={alpha}, {tensors.Sum(t => t.ByteLength):N0} bytes of F32");
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or ModelFormatException)
        {
            Console.Error.WriteLine($"make-lora: {ex.Message}\nusage: {UsageText}");
            return ex is ArgumentException or FormatException ? 2 : 1;
        }
    }

    private static SafeTensorToWrite Random(string adapter, string tensor, long[] shape, double std)
    {
        var values = new float[shape[0] * shape[1]];
        WeightRecipe.FillMatrix(adapter + "/" + tensor, std, values);
        return new SafeTensorToWrite(tensor, SafeTensorDType.F32, shape, s => s.Write(MemoryMarshal.AsBytes(values.AsSpan())));
    }

    /// <summary>The keys the fixture's adapters carry (recent PEFT save_pretrained layout).</summary>
    private static JsonObject AdapterConfig(string baseModel, int r, int alpha) => new()
    {
        ["alpha_pattern"] = new JsonObject(),
        ["auto_mapping"] = null,
        ["base_model_name_or_path"] = baseModel,
        ["bias"] = "none",
        ["fan_in_fan_out"] = false,
        ["inference_mode"] = true,
        ["init_lora_weights"] = true,
        ["layers_pattern"] = null,
        ["layers_to_transform"] = null,
        ["lora_alpha"] = alpha,
        ["lora_dropout"] = 0.0,
        ["modules_to_save"] = null,
        ["peft_type"] = "LORA",
        ["r"] = r,
        ["rank_pattern"] = new JsonObject(),
        ["revision"] = null,
        ["target_modules"] = new JsonArray([.. s_targets.Select(t => (JsonNode?)JsonValue.Create(t))]),
        ["task_type"] = "CAUSAL_LM",
        ["use_dora"] = false,
        ["use_rslora"] = false,
    };
}

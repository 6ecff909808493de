using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.Bench.Gguf;

/// <summary>
/// Converts a PEFT LoRA folder to a llama.cpp LoRA GGUF (general.type "adapter", adapter.type "lora"), so
/// llama-server can serve the same adapters with <c>--lora</c>: "blk.N.attn_q.weight.lora_a" with
/// ne = [in, r] and "…lora_b" with ne = [r, out], i.e. PEFT's A [r, in] and B [out, r] as stored, in F32.
/// llama.cpp scales by adapter.lora.alpha / r, so rsLoRA (alpha / √r) is written as alpha·√r.
/// </summary>
internal static class LoraToGguf
{
    private const string Prefix = "base_model.model.";

    public static void Convert(string adapterDir, string outPath, Action<string>? log = null)
    {
        var configPath = Path.Combine(adapterDir, "adapter_config.json");
        if (!File.Exists(configPath)) throw new InvalidDataException($"{adapterDir}: adapter_config.json is missing.");
        var config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                     ?? throw new InvalidDataException($"{configPath} is not a JSON object.");
        double r = config["r"]?.GetValue<double>() ?? throw new InvalidDataException($"{configPath} has no 'r'.");
        double alpha = config["lora_alpha"]?.GetValue<double>() ?? r;
        if ((bool?)config["use_rslora"] == true) alpha *= Math.Sqrt(r);
        var header = SafeTensorsHeader.Read(Path.Combine(adapterDir, "adapter_model.safetensors"));

        var gguf = new GgufWriter();
        gguf.Add("general.architecture", "qwen3");
        gguf.Add("general.type", "adapter");
        gguf.Add("general.name", Path.GetFileName(Path.GetFullPath(adapterDir).TrimEnd('/')));
        gguf.Add("adapter.type", "lora");
        gguf.Add("adapter.lora.alpha", (float)alpha);

        var tensors = new List<GgufTensor>();
        foreach (var (name, info) in header.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            string ab = name.EndsWith(".lora_A.weight", StringComparison.Ordinal) ? "lora_a"
                : name.EndsWith(".lora_B.weight", StringComparison.Ordinal) ? "lora_b"
                : throw new InvalidDataException($"{adapterDir}: tensor '{name}' is neither a lora_A nor a lora_B weight.");
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || info.Shape.Length != 2)
                throw new InvalidDataException($"{adapterDir}: tensor '{name}' is not a 2-D '{Prefix}…' PEFT weight.");
            string module = name[Prefix.Length..^(".lora_A.weight".Length)] + ".weight";
            tensors.Add(new GgufTensor($"{Qwen3ToGguf.GgufName(module)}.{ab}", [info.Shape[1], info.Shape[0]], GgmlType.F32,
                s => Qwen3ToGguf.CopyConverted(header, info, GgmlType.F32, s)));
        }
        gguf.Write(outPath, tensors);
        log?.Invoke($"  {tensors.Count} tensors, alpha {alpha:0.######} (llama.cpp scale alpha/r = {alpha / r:0.######})");
    }
}

using System.Text.Json;
using System.Text.RegularExpressions;
using QwenAspire.Engine.Model.SafeTensors;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Lora;

/// <summary>LoRA factors of one linear module: A [r, in], B [out, r] (f32).</summary>
public sealed record LoraFactorPair(Tensor A, Tensor B);

/// <summary>
/// A validated PEFT LoRA adapter for a Qwen3 base: every targeted module has A and B of the right shapes,
/// every tensor in the file belongs to a targeted module, and every target matches something. Anything
/// else is refused with the adapter path and the key at fault, never silently served as the base model.
/// </summary>
public sealed class LoraAdapter : IDisposable
{
    public const string ConfigFileName = "adapter_config.json";
    public const string WeightsFileName = "adapter_model.safetensors";
    private const string Prefix = "base_model.model.";

    private LoraAdapter(string name, string folder, LoraConfig config, IReadOnlyDictionary<string, LoraFactorPair> modules)
    {
        Name = name;
        Folder = folder;
        Config = config;
        Modules = modules;
    }

    public string Name { get; }
    public string Folder { get; }
    public LoraConfig Config { get; }
    public double Scale => Config.Scale;
    /// <summary>Factors by HF module name (e.g. <c>model.layers.0.self_attn.q_proj</c>).</summary>
    public IReadOnlyDictionary<string, LoraFactorPair> Modules { get; }

    public static LoraAdapter Load(string name, string folder, Qwen3Config baseConfig)
    {
        var configPath = Path.Combine(folder, ConfigFileName);
        var weightsPath = Path.Combine(folder, WeightsFileName);
        if (!Directory.Exists(folder)) throw new ModelFormatException(folder, $"adapter '{name}': folder not found.");
        var config = LoraConfig.Load(configPath);
        var targets = ResolveTargets(configPath, config, baseConfig);

        using var file = SafeTensorsFile.Open(weightsPath);
        var expected = new Dictionary<string, (string Module, bool IsA, long[] Shape)>(StringComparer.Ordinal);
        foreach (var module in targets)
        {
            var shape = Qwen3Weights.LinearShape(baseConfig, ShortName(module));
            expected[Prefix + module + ".lora_A.weight"] = (module, true, [config.R, shape[1]]);
            expected[Prefix + module + ".lora_B.weight"] = (module, false, [shape[0], config.R]);
        }
        var unknown = file.Tensors.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new ModelFormatException(weightsPath,
                $"adapter '{name}': tensor '{unknown[0]}' does not belong to a targeted module of target_modules {config.TargetModules!.Value.GetRawText()}"
                + (unknown.Count > 1 ? $" ({unknown.Count} such tensors)." : "."));
        var modules = new Dictionary<string, LoraFactorPair>(StringComparer.Ordinal);
        using (no_grad())
        {
            var factors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            try
            {
                foreach (var (key, (_, _, shape)) in expected)
                {
                    if (!file.Tensors.TryGetValue(key, out var info))
                        throw new ModelFormatException(weightsPath, $"adapter '{name}': tensor '{key}' is missing.");
                    if (!info.Shape.SequenceEqual(shape))
                        throw new ModelFormatException(weightsPath,
                            $"adapter '{name}': tensor '{key}' has shape [{string.Join(", ", info.Shape)}] but the base model and r={config.R} need [{string.Join(", ", shape)}].");
                }
                foreach (var (key, _) in expected)
                {
                    using var stored = file.Get(key);
                    factors[key] = stored.to(ScalarType.Float32).contiguous().clone();
                }
                foreach (var module in targets)
                    modules[module] = new LoraFactorPair(factors[Prefix + module + ".lora_A.weight"], factors[Prefix + module + ".lora_B.weight"]);
                factors.Clear();
            }
            finally
            {
                foreach (var t in factors.Values) t.Dispose();
            }
        }
        return new LoraAdapter(name, folder, config, modules);
    }

    /// <summary>
    /// PEFT's matching: a list entry matches a module whose name equals it or ends with "." + entry; a string
    /// is a full-match regex ("all-linear": every linear layer but the output head).
    /// </summary>
    private static List<string> ResolveTargets(string configPath, LoraConfig config, Qwen3Config baseConfig)
    {
        var supported = Enumerable.Range(0, baseConfig.NumHiddenLayers)
            .SelectMany(l => Qwen3Weights.LinearModules.Select(m => Qwen3Weights.Layer(l, m))).ToList();
        string[] unsupported = ["model.embed_tokens", "lm_head", "model.norm"];
        var all = supported.Concat(unsupported).ToList();
        var targets = config.TargetModules!.Value;
        List<string> matched;
        if (targets.ValueKind == JsonValueKind.String)
        {
            var pattern = targets.GetString()!;
            if (pattern == "all-linear") return supported;
            Regex regex;
            try
            {
                regex = new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw new ModelFormatException(configPath, $"field 'target_modules' is not a valid regex: {e.Message}", e);
            }
            matched = [.. all.Where(m => regex.IsMatch(m))];
            if (matched.Count == 0)
                throw new ModelFormatException(configPath, $"field 'target_modules' regex '{pattern}' matches no module of the Qwen3 base model.");
        }
        else
        {
            matched = [];
            foreach (var entry in targets.EnumerateArray())
            {
                var target = entry.ValueKind == JsonValueKind.String ? entry.GetString()!
                    : throw new ModelFormatException(configPath, $"field 'target_modules' holds '{entry.GetRawText()}', not a module name.");
                var hits = all.Where(m => m == target || m.EndsWith("." + target, StringComparison.Ordinal)).ToList();
                if (hits.Count == 0)
                    throw new ModelFormatException(configPath, $"field 'target_modules' entry '{target}' matches no module of the Qwen3 base model.");
                matched.AddRange(hits);
            }
            matched = [.. matched.Distinct(StringComparer.Ordinal)];
        }
        var bad = matched.FirstOrDefault(m => !supported.Contains(m));
        if (bad is not null)
            throw new ModelFormatException(configPath, $"field 'target_modules' selects '{bad}'; only the attention and MLP projections can be adapted.");
        return matched;
    }

    private static string ShortName(string module) => module[(module.IndexOf('.', "model.layers.".Length) + 1)..];

    public void Dispose()
    {
        foreach (var pair in Modules.Values)
        {
            pair.A.Dispose();
            pair.B.Dispose();
        }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.Engine.Model.Lora;

/// <summary>A PEFT <c>adapter_config.json</c> (LoRA); the fields that change the math or must be refused.</summary>
public sealed record LoraConfig
{
    [JsonPropertyName("peft_type")] public string? PeftType { get; init; }
    [JsonPropertyName("r")] public int R { get; init; }
    [JsonPropertyName("lora_alpha")] public double LoraAlpha { get; init; }
    /// <summary>A list (module-name suffixes) or a string (full-match regex, or PEFT's "all-linear").</summary>
    [JsonPropertyName("target_modules")] public JsonElement? TargetModules { get; init; }
    [JsonPropertyName("use_rslora")] public bool UseRsLora { get; init; }
    [JsonPropertyName("fan_in_fan_out")] public bool FanInFanOut { get; init; }
    [JsonPropertyName("bias")] public string? Bias { get; init; } = "none";
    [JsonPropertyName("lora_bias")] public bool LoraBias { get; init; }
    [JsonPropertyName("modules_to_save")] public JsonElement? ModulesToSave { get; init; }
    [JsonPropertyName("use_dora")] public bool UseDora { get; init; }
    [JsonPropertyName("rank_pattern")] public JsonElement? RankPattern { get; init; }
    [JsonPropertyName("alpha_pattern")] public JsonElement? AlphaPattern { get; init; }
    [JsonPropertyName("layers_to_transform")] public JsonElement? LayersToTransform { get; init; }
    [JsonPropertyName("exclude_modules")] public JsonElement? ExcludeModules { get; init; }
    [JsonPropertyName("trainable_token_indices")] public JsonElement? TrainableTokenIndices { get; init; }
    [JsonPropertyName("layer_replication")] public JsonElement? LayerReplication { get; init; }

    /// <summary>alpha / r, or alpha / √r with rsLoRA (PEFT's scaling).</summary>
    [JsonIgnore] public double Scale => UseRsLora ? LoraAlpha / Math.Sqrt(R) : LoraAlpha / R;

    public static LoraConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found.");
        var config = ConfigJson.Read<LoraConfig>(path);
        if (config is null) throw new ModelFormatException(path, "empty adapter config.");
        config.Validate(path);
        return config;
    }

    /// <summary>Refuses every option this engine would otherwise ignore (and so silently serve wrong weights).</summary>
    private void Validate(string path)
    {
        if (PeftType is not null && PeftType != "LORA")
            throw new ModelFormatException(path, $"field 'peft_type' is '{PeftType}'; only LORA adapters are supported.");
        if (R <= 0) throw new ModelFormatException(path, $"field 'r' is {R}; it must be a positive integer.");
        if (!(LoraAlpha > 0) || double.IsInfinity(LoraAlpha)) throw new ModelFormatException(path, $"field 'lora_alpha' is {LoraAlpha}; it must be positive.");
        if (Bias != "none") throw new ModelFormatException(path, $"field 'bias' is '{Bias}'; only 'none' is supported.");
        if (LoraBias) throw new ModelFormatException(path, "field 'lora_bias' is true; LoRA bias terms are not supported.");
        if (UseDora) throw new ModelFormatException(path, "field 'use_dora' is true; DoRA adapters are not supported.");
        if (IsSet(ModulesToSave))
            throw new ModelFormatException(path, $"field 'modules_to_save' is {ModulesToSave!.Value.GetRawText()}; adapters that replace whole modules are not supported.");
        if (IsSet(RankPattern)) throw new ModelFormatException(path, "field 'rank_pattern' is set; per-module ranks are not supported.");
        if (IsSet(AlphaPattern)) throw new ModelFormatException(path, "field 'alpha_pattern' is set; per-module alphas are not supported.");
        if (IsSet(LayersToTransform)) throw new ModelFormatException(path, "field 'layers_to_transform' is set; layer-restricted adapters are not supported.");
        if (IsSet(ExcludeModules)) throw new ModelFormatException(path, "field 'exclude_modules' is set; it is not supported.");
        if (IsSet(TrainableTokenIndices)) throw new ModelFormatException(path, "field 'trainable_token_indices' is set; it is not supported.");
        if (IsSet(LayerReplication)) throw new ModelFormatException(path, "field 'layer_replication' is set; it is not supported.");
        if (TargetModules is not { ValueKind: JsonValueKind.String or JsonValueKind.Array })
            throw new ModelFormatException(path, "field 'target_modules' must be a list of module names or a regex string.");
    }

    /// <summary>Null, empty list and empty object all mean "not used" in PEFT configs.</summary>
    private static bool IsSet(JsonElement? e) => e is { } v && v.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => false,
        JsonValueKind.Array => v.GetArrayLength() > 0,
        JsonValueKind.Object => v.EnumerateObject().Any(),
        _ => true,
    };
}

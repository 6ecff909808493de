using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.Engine.Model;

/// <summary>A Hugging Face Qwen3 <c>config.json</c>; only the fields the forward pass reads, plus identity.</summary>
public sealed record Qwen3Config
{
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }
    [JsonPropertyName("architectures")] public IReadOnlyList<string>? Architectures { get; init; }
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; }
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; }
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; }
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; }
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; }
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeads { get; init; }
    /// <summary>Qwen3 sets it explicitly and it need not equal hidden/heads (the tiny fixture: 32 vs 16).</summary>
    [JsonPropertyName("head_dim")] public int? HeadDimOverride { get; init; }
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 1_000_000;
    [JsonPropertyName("rope_scaling")] public JsonElement? RopeScaling { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 40960;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("torch_dtype")] public string? TorchDType { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }
    [JsonPropertyName("use_sliding_window")] public bool UseSlidingWindow { get; init; }
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; }
    [JsonPropertyName("eos_token_id")] public JsonElement? EosTokenId { get; init; }

    [JsonIgnore] public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;
    [JsonIgnore] public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    public static Qwen3Config Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found.");
        var config = ConfigJson.Read<Qwen3Config>(path);
        if (config is null) throw new ModelFormatException(path, "empty config.");
        config.Validate(path);
        return config;
    }

    /// <summary>Refuses configs this engine would compute wrongly, naming the field at fault.</summary>
    public void Validate(string path)
    {
        if (ModelType != "qwen3")
            throw new ModelFormatException(path, $"field 'model_type' is '{ModelType}'; only 'qwen3' is supported.");
        if (Architectures is { Count: > 0 } archs && !archs.Contains("Qwen3ForCausalLM"))
            throw new ModelFormatException(path, $"field 'architectures' is [{string.Join(", ", archs)}]; only Qwen3ForCausalLM is supported.");
        Positive(path, "vocab_size", VocabSize);
        Positive(path, "hidden_size", HiddenSize);
        Positive(path, "intermediate_size", IntermediateSize);
        Positive(path, "num_hidden_layers", NumHiddenLayers);
        Positive(path, "num_attention_heads", NumAttentionHeads);
        Positive(path, "num_key_value_heads", KeyValueHeads);
        Positive(path, "head_dim", HeadDim);
        Positive(path, "max_position_embeddings", MaxPositionEmbeddings);
        if (NumAttentionHeads % KeyValueHeads != 0)
            throw new ModelFormatException(path, $"field 'num_attention_heads' ({NumAttentionHeads}) is not a multiple of 'num_key_value_heads' ({KeyValueHeads}).");
        if (HeadDim % 2 != 0) throw new ModelFormatException(path, $"field 'head_dim' ({HeadDim}) must be even for rotary embeddings.");
        if (HiddenAct != "silu") throw new ModelFormatException(path, $"field 'hidden_act' is '{HiddenAct}'; only 'silu' is supported.");
        if (AttentionBias) throw new ModelFormatException(path, "field 'attention_bias' is true; Qwen3 attention without bias is the only supported form.");
        if (UseSlidingWindow) throw new ModelFormatException(path, "field 'use_sliding_window' is true; sliding-window attention is not supported.");
        if (RopeScaling is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined })
            throw new ModelFormatException(path, "field 'rope_scaling' is set; only plain RoPE (rope_scaling null) is supported.");
        if (!(RopeTheta > 0)) throw new ModelFormatException(path, $"field 'rope_theta' ({RopeTheta}) must be positive.");
        if (!(RmsNormEps > 0)) throw new ModelFormatException(path, $"field 'rms_norm_eps' ({RmsNormEps}) must be positive.");
    }

    private static void Positive(string path, string field, int value)
    {
        if (value <= 0) throw new ModelFormatException(path, $"field '{field}' is {value}; it must be a positive integer.");
    }
}

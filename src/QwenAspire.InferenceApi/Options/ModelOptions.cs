using Microsoft.Extensions.Configuration;

namespace QwenAspire.InferenceApi.Options;

/// <summary>The <c>model</c> section: which checkpoint and adapters to serve and in which precision.</summary>
public sealed class ModelOptions
{
    public const string Section = "model";

    /// <summary>Hugging Face folder of the base model. Empty: serve the generated demo model.</summary>
    public string? Path { get; set; }

    /// <summary>Name clients pass as <c>model</c>. Default: the model folder's name.</summary>
    [ConfigurationKeyName("served_model_name")]
    public string? ServedModelName { get; set; }

    /// <summary>LoRA adapters: served name → PEFT adapter folder (<c>--lora NAME=DIR</c>).</summary>
    public Dictionary<string, string> Adapters { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// With exactly one adapter: true merges it into the weights (no per-token cost; the base model is then not
    /// served and the adapter cannot be unloaded); false (default) keeps it unmerged and serves the base too.
    /// </summary>
    [ConfigurationKeyName("merge_single_adapter")]
    public bool MergeSingleAdapter { get; set; }

    /// <summary>Weight storage: auto | float32 (f32) | bfloat16 (bf16) | float16 (f16).</summary>
    public string Dtype { get; set; } = "auto";

    /// <summary>Where the demo model is generated when no model is configured. Default: a temp folder.</summary>
    [ConfigurationKeyName("demo_directory")]
    public string? DemoDirectory { get; set; }

    public static readonly string[] Dtypes = ["auto", "float32", "f32", "bfloat16", "bf16", "float16", "f16"];

    /// <summary>The engine's spelling (auto|f32|bf16|f16) of <see cref="Dtype"/>.</summary>
    public string EngineDtype => Dtype.ToLowerInvariant() switch
    {
        "float32" => "f32",
        "bfloat16" => "bf16",
        "float16" => "f16",
        var other => other,
    };
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

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

    /// <summary>
    /// LoRA adapters: served name → PEFT adapter folder (<c>--lora NAME=DIR</c>). An entry may also be a section,
    /// <c>NAME: {path: DIR, enable_thinking: false}</c>, read by <see cref="ModelAdapterSections"/>.
    /// </summary>
    public Dictionary<string, string> Adapters { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// <c>model.adapters.NAME.enable_thinking</c>: the adapter's thinking default when a request does not say
    /// (absent: <c>generation.enable_thinking</c>, as for the base model).
    /// </summary>
    public Dictionary<string, bool> AdapterThinking { get; } = new(StringComparer.Ordinal);

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

/// <summary>
/// Reads the section form of <c>model.adapters.NAME</c> (<c>path</c>, <c>enable_thinking</c>) that the binder
/// cannot put in a name → folder map; the plain form (<c>NAME: DIR</c>, <c>--lora NAME=DIR</c>) is bound as before.
/// </summary>
public sealed class ModelAdapterSections(IConfiguration configuration) : IPostConfigureOptions<ModelOptions>
{
    public void PostConfigure(string? name, ModelOptions options)
    {
        foreach (var adapter in configuration.GetSection(ModelOptions.Section).GetSection("adapters").GetChildren())
        {
            if (adapter.Value is not null) continue; // NAME: DIR
            if (adapter["path"] is { } path) options.Adapters[adapter.Key] = path;
            else options.Adapters[adapter.Key] = ""; // validation names the missing key
            if (adapter["enable_thinking"] is { } thinking)
                options.AdapterThinking[adapter.Key] = bool.TryParse(thinking, out var on) ? on
                    : throw new OptionsValidationException(ModelOptions.Section, typeof(ModelOptions),
                        [$"model.adapters.{adapter.Key}.enable_thinking: '{thinking}' is not true or false."]);
        }
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace QwenAspire.InferenceApi.Options;

/// <summary>
/// Loading LoRA adapters at run time (<c>POST /v1/load_lora_adapter</c>), from the <c>engine</c> section. Off by
/// default, as vLLM's VLLM_ALLOW_RUNTIME_LORA_UPDATING: a client that may load adapters makes the server read
/// folders it names, so it is opt-in and confined to <see cref="LoraRoots"/>.
/// </summary>
public sealed class RuntimeLoraOptions
{
    public const string Section = EngineOptionsSetup.Section;

    [ConfigurationKeyName("allow_runtime_lora")]
    public bool AllowRuntimeLora { get; set; }

    /// <summary>Folders a runtime <c>lora_path</c> must lie in (after resolving <c>..</c> and symbolic links).</summary>
    [ConfigurationKeyName("lora_roots")]
    public List<string> LoraRoots { get; set; } = [];
}

/// <summary>Names the key of a bad root; and refuses runtime adapters over a merged one (they would apply to changed weights).</summary>
public sealed class RuntimeLoraOptionsValidator(IConfiguration configuration) : IValidateOptions<RuntimeLoraOptions>
{
    public ValidateOptionsResult Validate(string? name, RuntimeLoraOptions o)
    {
        var errors = new List<string>();
        for (int i = 0; i < o.LoraRoots.Count; i++)
        {
            string root = o.LoraRoots[i];
            if (string.IsNullOrWhiteSpace(root))
                errors.Add($"engine.lora_roots[{i}]: must not be empty.");
            else if (!Directory.Exists(root))
                errors.Add($"engine.lora_roots[{i}]: the folder '{root}' does not exist.");
        }
        if (o.AllowRuntimeLora && o.LoraRoots.Count == 0)
            errors.Add("engine.lora_roots: engine.allow_runtime_lora is true but no folder is listed; " +
                       "runtime adapters may only be loaded from folders under these roots.");
        if (o.AllowRuntimeLora && configuration.GetValue<bool>($"{ModelOptions.Section}:merge_single_adapter"))
            errors.Add("engine.allow_runtime_lora: cannot be combined with model.merge_single_adapter: true " +
                       "(a runtime adapter is trained on the base weights, which the merged adapter has changed).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

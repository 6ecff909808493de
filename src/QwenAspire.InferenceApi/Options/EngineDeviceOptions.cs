using Microsoft.Extensions.Options;
using QwenAspire.Engine.Model.Weights;

namespace QwenAspire.InferenceApi.Options;

/// <summary>
/// Where and how the engine runs, from the <c>engine</c> section (<c>engine.device</c>, <c>engine.threads</c>,
/// <c>engine.quantization</c>); the rest
/// of that section is the engine loop's own <see cref="QwenAspire.Engine.Generation.EngineOptions"/>.
/// </summary>
public sealed class EngineDeviceOptions
{
    public const string Section = EngineOptionsSetup.Section;

    /// <summary>auto (cuda when torch sees a GPU) | cpu | cuda (<c>--device</c>).</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Torch intra-op threads; 0 keeps torch's default (<c>--threads</c>).</summary>
    public int Threads { get; set; }

    /// <summary>
    /// none | int8 | int4 (<c>--quantization</c>): linear weights quantized at load from the bf16/f16/f32 checkpoint,
    /// after a single merged adapter is folded in.
    /// </summary>
    public WeightQuantization Quantization { get; set; } = WeightQuantization.None;

    public static readonly string[] Devices = ["auto", "cpu", "cuda"];
}

/// <summary>
/// Names the key of a bad value; and refuses the old <c>model.device</c>/<c>model.threads</c>, which would
/// otherwise be ignored without a word.
/// </summary>
public sealed class EngineDeviceOptionsValidator(IConfiguration configuration) : IValidateOptions<EngineDeviceOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineDeviceOptions o)
    {
        var errors = new List<string>();
        if (!EngineDeviceOptions.Devices.Contains(o.Device, StringComparer.OrdinalIgnoreCase))
            errors.Add($"engine.device: '{o.Device}' is not one of {string.Join(", ", EngineDeviceOptions.Devices)}.");
        if (!Enum.IsDefined(o.Quantization))
            errors.Add($"engine.quantization: '{o.Quantization}' is not one of none, int8, int4.");
        if (o.Threads < 0)
            errors.Add($"engine.threads: must be 0 (torch default) or positive, got {o.Threads}.");
        foreach (var moved in new[] { "device", "threads" })
            if (configuration[$"{ModelOptions.Section}:{moved}"] is not null)
                errors.Add($"model.{moved}: moved to engine.{moved} (env ENGINE__{moved.ToUpperInvariant()}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

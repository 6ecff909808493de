using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using QwenAspire.Engine.Model.Weights;
using WeightCache = QwenAspire.Engine.Model.Weights.QuantizationCache;

namespace QwenAspire.InferenceApi.Options;

/// <summary>
/// Where and how the engine runs and how big its KV pool is, from the <c>engine</c> section (<c>engine.device</c>,
/// <c>engine.threads</c>, <c>engine.quantization</c>, <c>engine.kv_cache_memory</c>, <c>engine.kv_block_size</c>,
/// <c>engine.kv_cache_dtype</c>); the rest
/// of that section is the engine loop's own <see cref="QwenAspire.Engine.Generation.EngineOptions"/>.
/// </summary>
public sealed class EngineDeviceOptions
{
    public const string Section = EngineOptionsSetup.Section;

    /// <summary>auto (cuda when torch sees a GPU) | cpu | cuda (<c>--device</c>).</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Torch intra-op threads; 0 keeps torch's default (<c>--threads</c>).</summary>
    public int Threads { get; set; }

    /// <summary>Paged KV pool size: bytes (<c>4GiB</c>, <c>512MiB</c>, <c>1073741824</c>) or a fraction of available memory (<c>0.25</c>).</summary>
    [ConfigurationKeyName("kv_cache_memory")]
    public string KvCacheMemory { get; set; } = "0.25";

    /// <summary>Tokens per KV block.</summary>
    [ConfigurationKeyName("kv_block_size")]
    public int KvBlockSize { get; set; } = 16;

    /// <summary>auto (f32 for f32 models, else bf16) | f32 | bf16 | f16.</summary>
    [ConfigurationKeyName("kv_cache_dtype")]
    public string KvCacheDtype { get; set; } = "auto";

    /// <summary>
    /// none | int8 | int4 (<c>--quantization</c>): linear weights quantized at load from the bf16/f16/f32 checkpoint,
    /// after a single merged adapter is folded in.
    /// </summary>
    public WeightQuantization Quantization { get; set; } = WeightQuantization.None;

    /// <summary>
    /// Where quantized weights are kept by content so the next start skips quantizing: <c>auto</c> (a
    /// <c>.qwenaspire-cache</c> folder in the model folder, or the user's cache folder when that is not writable),
    /// <c>off</c>, or a folder (<c>--quantization-cache</c>).
    /// </summary>
    [ConfigurationKeyName("quantization_cache")]
    public string QuantizationCache { get; set; } = "auto";

    /// <summary>The cache <see cref="QuantizationCache"/> names for a model in <paramref name="modelDir"/>, or null when off.</summary>
    public WeightCache? ResolveQuantizationCache(string modelDir)
    {
        if (Quantization == WeightQuantization.None || string.Equals(QuantizationCache, "off", StringComparison.OrdinalIgnoreCase)) return null;
        if (!string.Equals(QuantizationCache, "auto", StringComparison.OrdinalIgnoreCase))
            return new WeightCache(Path.GetFullPath(QuantizationCache));
        var beside = Path.Combine(modelDir, ".qwenaspire-cache");
        if (Writable(beside)) return new WeightCache(beside);
        // The user's cache folder: %LOCALAPPDATA% on Windows, $XDG_CACHE_HOME or ~/.cache elsewhere.
        var root = OperatingSystem.IsWindows()
            ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify)
            : Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return new WeightCache(Path.Combine(root, "qwenaspire", "quantized"));
    }

    private static bool Writable(string cacheDir)
    {
        try
        {
            Directory.CreateDirectory(cacheDir);
            var probe = Path.Combine(cacheDir, $".probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static readonly string[] Devices = ["auto", "cpu", "cuda"];
    public static readonly string[] KvCacheDtypes = ["auto", "f32", "float32", "bf16", "bfloat16", "f16", "float16"];
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
        if (string.IsNullOrWhiteSpace(o.QuantizationCache))
            errors.Add("engine.quantization_cache: must be auto, off or a folder.");
        if (o.Threads < 0)
            errors.Add($"engine.threads: must be 0 (torch default) or positive, got {o.Threads}.");
        if (!KvCacheMemory.TryParse(o.KvCacheMemory, out _, out _, out var kvError))
            errors.Add($"engine.kv_cache_memory: {kvError}");
        if (o.KvBlockSize is < 1 or > 1024)
            errors.Add($"engine.kv_block_size: must be between 1 and 1024 tokens, got {o.KvBlockSize}.");
        if (!EngineDeviceOptions.KvCacheDtypes.Contains(o.KvCacheDtype, StringComparer.OrdinalIgnoreCase))
            errors.Add($"engine.kv_cache_dtype: '{o.KvCacheDtype}' is not one of {string.Join(", ", EngineDeviceOptions.KvCacheDtypes)}.");
        foreach (var moved in new[] { "device", "threads" })
            if (configuration[$"{ModelOptions.Section}:{moved}"] is not null)
                errors.Add($"model.{moved}: moved to engine.{moved} (env ENGINE__{moved.ToUpperInvariant()}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

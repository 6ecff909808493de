using TorchSharp;

namespace QwenAspire.Engine.Model;

/// <summary>Storage precision of the linear and embedding weights (norms always stay f32).</summary>
public enum ModelDType { F32, BF16, F16 }

public static class ModelDTypes
{
    /// <summary>
    /// Parses <c>auto|f32|float32|bf16|bfloat16|f16|float16</c>; <c>auto</c> takes <c>torch_dtype</c> from
    /// config.json (f32 when absent).
    /// </summary>
    public static ModelDType Parse(string text, Qwen3Config config) => text.ToLowerInvariant() switch
    {
        "auto" or "" => config.TorchDType is null ? ModelDType.F32 : Parse(config.TorchDType, config),
        "f32" or "float32" or "float" => ModelDType.F32,
        "bf16" or "bfloat16" => ModelDType.BF16,
        "f16" or "float16" or "half" => ModelDType.F16,
        _ => throw new ArgumentException($"dtype must be auto, f32, bf16 or f16, not '{text}'.", nameof(text)),
    };

    public static torch.ScalarType ToScalarType(this ModelDType dtype) => dtype switch
    {
        ModelDType.F32 => torch.ScalarType.Float32,
        ModelDType.BF16 => torch.ScalarType.BFloat16,
        _ => torch.ScalarType.Float16,
    };
}

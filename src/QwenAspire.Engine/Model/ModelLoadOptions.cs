using QwenAspire.Engine.Model.Weights;

namespace QwenAspire.Engine.Model;

/// <summary>Loading progress: fraction done (0..1), time since loading began, and what is being read.</summary>
public readonly record struct ModelLoadProgress(double Fraction, TimeSpan Elapsed, string Stage);

/// <summary>How to load a checkpoint.</summary>
public sealed record ModelLoadOptions
{
    /// <summary><c>auto</c> (config's torch_dtype), <c>f32</c>, <c>bf16</c> or <c>f16</c>: storage of linear/embedding weights.</summary>
    public string DType { get; init; } = "auto";
    /// <summary><c>auto</c>, <c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; init; } = "cpu";
    public LinearPolicy LinearPolicy { get; init; } = LinearPolicy.Default;
    /// <summary>
    /// Time the 16-bit projection paths on one of the model's weights and adjust <see cref="LinearPolicy"/> to this
    /// CPU (<see cref="LinearPolicyCalibration"/>); only for unquantized bf16/f16 weights on CPU of at least
    /// <see cref="LinearPolicyCalibration.MinElements"/> elements.
    /// </summary>
    public bool CalibrateLinearPolicy { get; init; } = true;
    /// <summary>Quantize the per-layer linear weights at load (<c>engine.quantization</c>); adapters cannot be merged afterwards.</summary>
    public WeightQuantization Quantization { get; init; } = WeightQuantization.None;
    /// <summary>Input columns per quantization group (one f32 scale each); a multiple of 32.</summary>
    public int QuantizationGroupSize { get; init; } = DefaultQuantizationGroupSize;
    /// <summary>Whether the lm_head is quantized too (it is read whole every token: 311 M weights on Qwen3-1.7B).</summary>
    public bool QuantizeLmHead { get; init; } = true;

    /// <summary>Quantized weights kept by content between starts (<c>engine.quantization_cache</c>); null: quantize every time.</summary>
    public QuantizationCache? QuantizationCache { get; init; }

    public const int DefaultQuantizationGroupSize = 32;
    public IProgress<ModelLoadProgress>? Progress { get; init; }
}

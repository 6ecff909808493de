namespace QwenAspire.Engine.Model.Weights;

/// <summary>How linear weights are stored after loading (<c>engine.quantization</c>).</summary>
public enum WeightQuantization
{
    /// <summary>As loaded: f32, bf16 or f16 (see <see cref="ModelDType"/>).</summary>
    None,
    /// <summary>Symmetric int8 per group of input columns, one f32 scale per group.</summary>
    Int8,
    /// <summary>4-bit per group of input columns (values −8..7, llama.cpp Q4_0's scale choice), one f32 scale per group.</summary>
    Int4,
}

public static class WeightQuantizations
{
    /// <summary>Parses <c>none|int8|int4</c> (case-insensitive; <c>q8</c>/<c>q4</c> accepted).</summary>
    public static WeightQuantization Parse(string? text) => (text ?? "none").Trim().ToLowerInvariant() switch
    {
        "none" or "" => WeightQuantization.None,
        "int8" or "q8" => WeightQuantization.Int8,
        "int4" or "q4" => WeightQuantization.Int4,
        _ => throw new ArgumentException($"quantization must be none, int8 or int4, not '{text}'.", nameof(text)),
    };

    public static string Name(this WeightQuantization q) => q switch
    {
        WeightQuantization.Int8 => "int8",
        WeightQuantization.Int4 => "int4",
        _ => "none",
    };
}

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
    public IProgress<ModelLoadProgress>? Progress { get; init; }
}

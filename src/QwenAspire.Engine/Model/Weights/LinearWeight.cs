using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Weights;

/// <summary>
/// The weight W (out, in) of a bias-free linear layer together with its projection <c>x Wᵀ</c>: each
/// implementation owns its memory layout (dense float, int8/int4 groups) and its thread policy, so callers never
/// look at storage dtypes.
/// </summary>
public abstract class LinearWeight : IDisposable
{
    public abstract long OutFeatures { get; }
    public abstract long InFeatures { get; }
    public abstract Device Device { get; }
    public abstract WeightQuantization Quantization { get; }
    /// <summary>Bytes of weight storage read by one projection (scales included).</summary>
    public abstract long StorageBytes { get; }

    /// <summary>x (N, in) f32 → (N, out) f32; the result belongs to the caller's dispose scope.</summary>
    public abstract Tensor Project(Tensor x);

    /// <summary>
    /// True when a projection of <paramref name="rows"/> rows runs on the kernels' own worker threads; a forward
    /// made only of such steps then drops libtorch to one thread so its OpenMP spinning leaves the cores alone.
    /// </summary>
    public abstract bool RunsOnKernelThreads(int rows);

    /// <summary>The weight as a new dense f32 tensor (out, in), e.g. to merge an adapter or re-quantize.</summary>
    public abstract Tensor ToFloat();

    public abstract void Dispose();
}

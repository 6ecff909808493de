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

    /// <summary>
    /// When the projection of contiguous <paramref name="x"/> is one SIMD GEMV: that job (not yet run) and its
    /// output <paramref name="y"/> (T, out) f32, so projections of the same activations run as one
    /// <see cref="Kernels.GemvGroup"/>. False: call <see cref="Project"/>.
    /// </summary>
    internal virtual bool TryGemv(Tensor x, out Kernels.GemvJob job, out Tensor y)
    {
        job = default;
        y = null!;
        return false;
    }

    /// <summary>Threads the weight's SIMD GEMV uses.</summary>
    internal virtual int GemvThreads => 1;

    /// <summary>The weight as a new dense f32 tensor (out, in), e.g. to merge an adapter or re-quantize.</summary>
    public abstract Tensor ToFloat();

    public abstract void Dispose();
}

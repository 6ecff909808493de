using QwenAspire.Engine.Model.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Weights;

/// <summary>
/// A dense f32, bf16 or f16 weight (out, in). 16-bit weights keep activations in f32: few rows go through the
/// in-place SIMD GEMV (<see cref="ReducedGemv"/>), many rows through an f32 GEMM on widened blocks.
/// </summary>
public sealed class DenseWeight : LinearWeight
{
    public DenseWeight(Tensor weight, LinearPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(policy);
        if (weight.dim() != 2) throw new ArgumentException($"a linear weight must be 2-D (out, in); got [{string.Join(", ", weight.shape)}].", nameof(weight));
        if (weight.dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"a dense linear weight must be f32, bf16 or f16; got {weight.dtype}.", nameof(weight));
        if (policy.WidenAboveRows < 0 || policy.KernelMaxRows < 0 || policy.WidenBlockRows < 0 || policy.KernelChunkMaxRows < 0)
            throw new ArgumentOutOfRangeException(nameof(policy), $"LinearPolicy fields must be non-negative; got {policy}.");
        Tensor = weight;
        Policy = policy;
        // Captured now: decode forwards drop libtorch to one thread (see Qwen3ForCausalLM.Forward).
        KernelThreads = torch.get_num_threads();
    }

    /// <summary>The stored tensor (out, in); owned by this weight.</summary>
    public Tensor Tensor { get; }
    public LinearPolicy Policy { get; }
    /// <summary>Threads for the SIMD GEMV: libtorch's intra-op thread count when the weight was built.</summary>
    public int KernelThreads { get; }
    public override long OutFeatures => Tensor.shape[0];
    public override long InFeatures => Tensor.shape[1];
    public override Device Device => Tensor.device;
    public override WeightQuantization Quantization => WeightQuantization.None;
    public override long StorageBytes => Tensor.NumberOfElements * Tensor.ElementSize;

    public override bool RunsOnKernelThreads(int rows) =>
        rows <= Policy.KernelMaxRows && Tensor.dtype != ScalarType.Float32 && Tensor.device_type == DeviceType.CPU && ReducedGemv.Supported;

    public override Tensor Project(Tensor x)
    {
        if (Tensor.dtype == ScalarType.Float32) return nn.functional.linear(x, Tensor);
        var rows = x.shape[0];
        // Decode: a hand-written GEMV reads the 16-bit weight in place at memory bandwidth, which libtorch's
        // one-row bf16 matmul does not reach on CPU.
        if (rows <= Policy.KernelMaxRows && ReducedGemv.Accepts(x, Tensor)) return ReducedGemv.Project(x, Tensor, KernelThreads);
        // Prompts on an AVX512-BF16 CPU: our cache-blocked bf16 dot-product GEMM (twice the f32 FMA rate).
        if (UsesBf16DotGemm(x)) return ProjectBf16Dot(x);
        // Prompts of a few dozen rows: the SIMD GEMV in chunks of KernelMaxRows still reads the 16-bit weight in
        // place, once per chunk, which beats widening the whole weight for so few rows.
        if (rows <= Policy.KernelChunkMaxRows && Policy.KernelMaxRows > 0 && ReducedGemv.Accepts(x, Tensor)) return ProjectInChunks(x);
        // Reduced-precision matmuls beat f32 only for a few rows on this kind of CPU (bandwidth-bound
        // decode); for long prompts widening the weight is faster than a bf16 GEMM.
        if (rows > Policy.WidenAboveRows)
        {
            if (Policy.WidenBlockRows > 0 && OutFeatures > Policy.WidenBlockRows) return ProjectWidenedBlocks(x);
            // Freed now, not at the end of the forward's scope: holding every widened weight would double RSS.
            using var wide = Tensor.to(ScalarType.Float32);
            return nn.functional.linear(x, wide);
        }
        return nn.functional.linear(x.to(Tensor.dtype), Tensor).to(ScalarType.Float32);
    }

    /// <summary>Whether <see cref="Project"/> sends these rows (above KernelMaxRows) to <see cref="Bf16DotGemv.ProjectMany"/>.</summary>
    internal bool UsesBf16DotGemm(Tensor x) =>
        Policy.Bf16DotGemm && Tensor.dtype == ScalarType.BFloat16 && ReducedGemv.Accepts(x, Tensor)
        && Bf16DotGemv.Accepts((int)OutFeatures, (int)InFeatures);

    private unsafe Tensor ProjectBf16Dot(Tensor x)
    {
        var rows = (int)x.shape[0];
        using var xc = x.contiguous();
        var y = empty(rows, OutFeatures, ScalarType.Float32); // (T, out)
        if (rows == 0) return y;
        fixed (byte* xb = xc.bytes)
        fixed (byte* wb = Tensor.bytes)
        fixed (byte* yb = y.bytes)
        {
            Bf16DotGemv.ProjectMany((float*)xb, rows, (ushort*)wb, (int)InFeatures, (int)OutFeatures, (float*)yb, KernelThreads);
        }
        return y;
    }

    internal override bool TryGemv(Tensor x, out GemvJob job, out Tensor y)
    {
        if (x.shape[0] > Policy.KernelMaxRows || !x.is_contiguous() || !ReducedGemv.Accepts(x, Tensor))
        {
            job = default;
            y = null!;
            return false;
        }
        y = empty(x.shape[0], OutFeatures, ScalarType.Float32); // (T, out)
        job = ReducedGemv.Job(x, Tensor, y);
        return true;
    }

    internal override int GemvThreads => KernelThreads;

    public override Tensor ToFloat() => Tensor.to(ScalarType.Float32).contiguous();

    /// <summary>A new weight W + scale · (B @ A): delta in f64, rounded once to this weight's dtype.</summary>
    public DenseWeight Merged(Tensor a, Tensor b, double scale)
    {
        using var scope = NewDisposeScope();
        var merged = Tensor.to(ScalarType.Float64)
            .add_(b.to(ScalarType.Float64, Tensor.device).matmul(a.to(ScalarType.Float64, Tensor.device)), scale)
            .to(Tensor.dtype).contiguous();
        return new DenseWeight(merged.DetachFromDisposeScope(), Policy);
    }

    /// <summary>x (T, in) → (T, out) through the SIMD GEMV, KernelMaxRows rows of x at a time.</summary>
    private unsafe Tensor ProjectInChunks(Tensor x)
    {
        var rows = (int)x.shape[0];
        var outF = (int)OutFeatures;
        var inF = (int)InFeatures;
        using var xc = x.contiguous();
        var y = empty(rows, outF, ScalarType.Float32); // (T, out)
        if (rows == 0 || outF == 0) return y;
        var f16 = Tensor.dtype == ScalarType.Float16;
        fixed (byte* xb = xc.bytes)
        fixed (byte* wb = Tensor.bytes)
        fixed (byte* yb = y.bytes)
        {
            float* xp = (float*)xb, yp = (float*)yb;
            for (var r0 = 0; r0 < rows; r0 += Policy.KernelMaxRows)
            {
                var n = Math.Min(Policy.KernelMaxRows, rows - r0);
                ReducedGemv.Compute(xp + (long)r0 * inF, n, (ushort*)wb, outF, inF, yp + (long)r0 * outF, f16, KernelThreads);
            }
        }
        return y;
    }

    /// <summary>
    /// x (T, in) → (T, out), widening WidenBlockRows weight rows at a time into one reused f32 scratch: the
    /// widened block stays in cache for its GEMM instead of a whole f32 weight going out to (fresh) memory.
    /// </summary>
    private Tensor ProjectWidenedBlocks(Tensor x)
    {
        var rows = x.shape[0];
        var outF = OutFeatures;
        var block = (long)Policy.WidenBlockRows;
        var y = empty(rows, outF, ScalarType.Float32, x.device); // (T, out)
        using var scratch = empty(block, InFeatures, ScalarType.Float32, Tensor.device); // (block, in)
        for (long o0 = 0; o0 < outF; o0 += block)
        {
            var n = Math.Min(block, outF - o0);
            using var w = Tensor.narrow(0, o0, n);
            using var s = scratch.narrow(0, 0, n);
            s.copy_(w);
            using var part = nn.functional.linear(x, s); // (T, n)
            using var dst = y.narrow(1, o0, n);
            dst.copy_(part);
        }
        return y;
    }

    public override void Dispose() => Tensor.Dispose();
}

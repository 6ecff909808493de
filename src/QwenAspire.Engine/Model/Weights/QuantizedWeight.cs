using QwenAspire.Engine.Model.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Weights;

/// <summary>
/// An int8 or int4 weight quantized at load in groups of <see cref="GroupSize"/> input columns, one f32 scale per
/// group, packed as <see cref="QuantGemv"/> reads it. Decode rows (up to <see cref="LinearPolicy.KernelMaxRows"/>)
/// go through the SIMD kernel on CPU; prefill dequantizes blocks of rows into f32 for libtorch's GEMM; other
/// devices (CUDA) dequantize with plain torch ops.
/// </summary>
public sealed class QuantizedWeight : LinearWeight
{
    private QuantizedWeight(Tensor packed, Tensor scales, WeightQuantization mode, int groupSize, long inF, LinearPolicy policy)
    {
        Packed = packed;
        Scales = scales;
        Quantization = mode;
        GroupSize = groupSize;
        InFeatures = inF;
        Policy = policy;
        KernelThreads = torch.get_num_threads();
    }

    /// <summary>(out, in) int8, or (out, in / 2) uint8 for int4 (see <c>Kernels/QuantFormats</c>).</summary>
    internal Tensor Packed { get; }
    /// <summary>(out, in / GroupSize) f32.</summary>
    internal Tensor Scales { get; }
    public int GroupSize { get; }
    public LinearPolicy Policy { get; }
    public int KernelThreads { get; }
    public override WeightQuantization Quantization { get; }
    public override long OutFeatures => Packed.shape[0];
    public override long InFeatures { get; }
    public override Device Device => Packed.device;
    public override long StorageBytes => Packed.NumberOfElements + Scales.NumberOfElements * 4;

    /// <summary>Whether an input width can be split into groups of <paramref name="groupSize"/> (else the layer stays dense).</summary>
    public static bool Fits(long inF, int groupSize) =>
        groupSize > 0 && groupSize % QuantGemv.GroupMultiple == 0 && inF % groupSize == 0 && inF <= int.MaxValue;

    /// <summary>Quantizes <paramref name="source"/> (left alive: the caller owns it).</summary>
    public static QuantizedWeight Quantize(LinearWeight source, WeightQuantization mode, int groupSize, LinearPolicy policy)
    {
        if (mode == WeightQuantization.None) throw new ArgumentException("quantize to int8 or int4, not none.", nameof(mode));
        if (!Fits(source.InFeatures, groupSize))
            throw new ArgumentException($"input width {source.InFeatures} does not split into groups of {groupSize} (a multiple of {QuantGemv.GroupMultiple}).", nameof(groupSize));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Dense weights quantize straight from their stored tensor, a block of rows at a time (no full f32 copy).
        var w = source is DenseWeight dense ? dense.Tensor : source.ToFloat();
        var (packed, scales) = WeightQuantizer.Quantize(w, mode, groupSize);
        return new QuantizedWeight(packed.DetachFromDisposeScope(), scales.DetachFromDisposeScope(), mode, groupSize, source.InFeatures, policy);
    }

    public override bool RunsOnKernelThreads(int rows) => rows <= Policy.KernelMaxRows && UsesKernel;

    private bool UsesKernel => QuantGemv.Supported && Packed.device_type == DeviceType.CPU;

    public override Tensor Project(Tensor x)
    {
        var rows = x.shape[0];
        if (UsesKernel && x.device_type == DeviceType.CPU)
            return rows <= Policy.KernelMaxRows ? ProjectWithKernel(x) : ProjectDequantizingBlocks(x);
        return ProjectWithTorch(x);
    }

    /// <summary>x (T, in) f32 → (T, out) through the SIMD kernel (CPU only).</summary>
    internal unsafe Tensor ProjectWithKernel(Tensor x)
    {
        if (x.dim() != 2 || x.shape[1] != InFeatures || x.dtype != ScalarType.Float32)
            throw new ArgumentException($"expected f32 x (T, {InFeatures}); got {x.dtype} [{string.Join(", ", x.shape)}].", nameof(x));
        var rows = (int)x.shape[0];
        var outF = (int)OutFeatures;
        using var xc = x.contiguous();
        var y = empty(rows, outF, ScalarType.Float32); // (T, out)
        fixed (byte* xp = xc.bytes)
        fixed (byte* qp = Packed.bytes)
        fixed (byte* sp = Scales.bytes)
        fixed (byte* yp = y.bytes)
        {
            QuantGemv.Compute((float*)xp, rows, qp, (float*)sp, GroupSize, outF, (int)InFeatures, (float*)yp, Quantization == WeightQuantization.Int4, KernelThreads);
        }
        return y;
    }

    /// <summary>
    /// x (T, in) → (T, out) with plain torch ops: WidenBlockRows weight rows at a time are dequantized into f32 and
    /// multiplied (the block stays in cache; the whole f32 weight never exists).
    /// </summary>
    internal Tensor ProjectWithTorch(Tensor x)
    {
        var outF = OutFeatures;
        var block = Policy.WidenBlockRows > 0 ? (long)Policy.WidenBlockRows : outF;
        var y = empty(x.shape[0], outF, ScalarType.Float32, x.device); // (T, out)
        for (long o0 = 0; o0 < outF; o0 += block)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(block, outF - o0);
            var w = WeightQuantizer.Dequantize(Packed, Scales, Quantization, GroupSize, o0, n); // (n, in)
            y.narrow(1, o0, n).copy_(nn.functional.linear(x, w));
        }
        return y;
    }

    /// <summary>
    /// CPU prefill: x (T, in) → (T, out), WidenBlockRows weight rows at a time dequantized by the SIMD loop into one
    /// reused f32 scratch (one pass, stays in cache) for libtorch's f32 GEMM.
    /// </summary>
    internal unsafe Tensor ProjectDequantizingBlocks(Tensor x)
    {
        var outF = OutFeatures;
        var inF = (int)InFeatures;
        var block = Policy.WidenBlockRows > 0 ? (long)Policy.WidenBlockRows : outF;
        var y = empty(x.shape[0], outF, ScalarType.Float32); // (T, out)
        using var scratch = empty(Math.Min(block, outF), inF, ScalarType.Float32); // (block, in)
        var rowBytes = Quantization == WeightQuantization.Int4 ? inF / 2 : inF;
        var groups = inF / GroupSize;
        fixed (byte* qp = Packed.bytes)
        fixed (byte* sp = Scales.bytes)
        fixed (byte* wp = scratch.bytes)
        {
            for (long o0 = 0; o0 < outF; o0 += block)
            {
                var n = Math.Min(block, outF - o0);
                Kernels.DequantBlocks.DequantizeRows(qp + o0 * rowBytes, (float*)sp + o0 * groups, (int)n, inF, GroupSize,
                    Quantization == WeightQuantization.Int4, (float*)wp);
                using var w = scratch.narrow(0, 0, n);
                using var part = nn.functional.linear(x, w); // (T, n)
                using var dst = y.narrow(1, o0, n);
                dst.copy_(part);
            }
        }
        return y;
    }

    public override Tensor ToFloat() => WeightQuantizer.Dequantize(Packed, Scales, Quantization, GroupSize, 0, OutFeatures);

    public override void Dispose()
    {
        Packed.Dispose();
        Scales.Dispose();
    }
}

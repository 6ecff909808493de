using QwenAspire.Engine.Model.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Weights;

/// <summary>
/// An int8 or int4 weight quantized at load in groups of <see cref="GroupSize"/> input columns and packed as
/// <see cref="QuantGemv"/> reads it (<c>Kernels/QuantFormats</c>). Decode rows (up to
/// <see cref="LinearPolicy.KernelMaxRows"/>) go through the integer SIMD kernel on CPU; prefill too where the CPU has
/// AVX512-VNNI (int8 × int8 at 64 products per instruction), else it dequantizes blocks of rows into a bf16 (or f32)
/// scratch for libtorch's GEMM; other devices (CUDA) dequantize with plain torch ops.
/// </summary>
public sealed class QuantizedWeight : LinearWeight
{
    /// <summary>
    /// Prefill GEMMs on bf16 blocks (Zen 4 AVX-512 BF16: libtorch's bf16 GEMM is ~2.6× its f32 one) unless
    /// QWENASPIRE_QUANT_PREFILL=f32.
    /// </summary>
    private static readonly bool PrefillBf16 = Environment.GetEnvironmentVariable("QWENASPIRE_QUANT_PREFILL") != "f32";

    /// <summary>Prefill through the VNNI kernel where it runs, unless QWENASPIRE_QUANT_PREFILL=bf16 or f32 (dequantized blocks, for A/B runs).</summary>
    private static readonly bool PrefillVnni = VnniGemv.Available && Environment.GetEnvironmentVariable("QWENASPIRE_QUANT_PREFILL") is not ("f32" or "bf16");

    private readonly PackedWeight _packed;
    private Tensor? _columnOrder;

    private QuantizedWeight(PackedWeight packed, WeightQuantization mode, int groupSize, long inF, LinearPolicy policy)
    {
        _packed = packed;
        Quantization = mode;
        GroupSize = groupSize;
        InFeatures = inF;
        Policy = policy;
        KernelThreads = torch.get_num_threads();
    }

    /// <summary>(out, row bytes): int8 values or int4 nibbles in storage order.</summary>
    internal Tensor Packed => _packed.Q;
    internal PackedWeight Parts => _packed;
    public int GroupSize { get; }
    public LinearPolicy Policy { get; }
    public int KernelThreads { get; }
    public override WeightQuantization Quantization { get; }
    public override long OutFeatures => _packed.Q.shape[0];
    public override long InFeatures { get; }
    public override Device Device => _packed.Q.device;
    public override long StorageBytes =>
        _packed.Q.NumberOfElements + _packed.Scales.NumberOfElements * _packed.Scales.ElementSize + _packed.Sub.NumberOfElements + 4 * OutFeatures;

    private bool Int4 => Quantization == WeightQuantization.Int4;

    /// <summary>Whether an input width can be quantized in groups of <paramref name="groupSize"/> (else the layer stays dense).</summary>
    public static bool Fits(long inF, int groupSize) =>
        groupSize > 0 && groupSize % QuantGemv.GroupMultiple == 0 && inF % groupSize == 0 && inF <= int.MaxValue / 2;

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
        var p = WeightQuantizer.Quantize(w, mode, groupSize);
        var kept = new PackedWeight(p.Q.DetachFromDisposeScope(), p.Scales.DetachFromDisposeScope(), p.Sub.DetachFromDisposeScope(), p.RowFactors.DetachFromDisposeScope());
        return new QuantizedWeight(kept, mode, groupSize, source.InFeatures, policy);
    }

    /// <summary>Whether <paramref name="p"/> has the shapes and dtypes a (<paramref name="outF"/>, <paramref name="inF"/>) weight packs to.</summary>
    internal static bool Matches(PackedWeight p, WeightQuantization mode, int groupSize, long outF, long inF)
    {
        if (mode == WeightQuantization.None || !Fits(inF, groupSize)) return false;
        var int4 = mode == WeightQuantization.Int4;
        var w = (int)inF;
        bool Is(Tensor t, ScalarType dtype, long columns) => t.dtype == dtype && t.dim() == 2 && t.shape[0] == outF && t.shape[1] * t.ElementSize == columns;
        return Is(p.Q, int4 ? ScalarType.Byte : ScalarType.Int8, QuantLayout.RowBytes(w, groupSize, int4))
            && Is(p.Scales, int4 ? ScalarType.Float32 : ScalarType.Float16, QuantLayout.ScaleBytes(w, groupSize, int4))
            && Is(p.Sub, ScalarType.Byte, QuantLayout.SubBytes(w, groupSize, int4))
            && p.RowFactors.dtype == ScalarType.Float32 && p.RowFactors.NumberOfElements == outF;
    }

    /// <summary>A weight from packed parts already made by <see cref="Quantize"/> (the quantization cache); takes ownership.</summary>
    internal static QuantizedWeight FromPacked(PackedWeight p, WeightQuantization mode, int groupSize, long inF, LinearPolicy policy)
    {
        if (!Matches(p, mode, groupSize, p.Q.shape[0], inF)) throw new ArgumentException($"packed parts do not fit a {mode.Name()} weight of width {inF} in groups of {groupSize}.", nameof(p));
        return new QuantizedWeight(p, mode, groupSize, inF, policy);
    }

    public override bool RunsOnKernelThreads(int rows) => (rows <= Policy.KernelMaxRows || PrefillVnni) && UsesKernel;

    private bool UsesKernel => QuantGemv.Supported && _packed.Q.device_type == DeviceType.CPU;

    public override Tensor Project(Tensor x)
    {
        var rows = x.shape[0];
        if (UsesKernel && x.device_type == DeviceType.CPU)
            return rows <= Policy.KernelMaxRows || PrefillVnni ? ProjectWithKernel(x) : ProjectDequantizingBlocks(x, PrefillBf16);
        return ProjectWithTorch(x);
    }

    /// <summary>
    /// Several quantized weights on the same x (q/k/v, gate/up) through the VNNI kernel as one GEMV group: x is
    /// quantized once and the workers get one hand-off. Null where that does not apply (then each projects alone).
    /// </summary>
    internal static unsafe Tensor[]? TryProjectGroup(IReadOnlyList<LinearWeight> weights, Tensor x)
    {
        if (weights.Count < 2 || !VnniGemv.Available || x.dim() != 2 || x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU) return null;
        if (weights[0] is not QuantizedWeight first) return null;
        var rows = (int)x.shape[0];
        foreach (var w in weights)
        {
            if (w is not QuantizedWeight q || !q.UsesKernel || q.Quantization != first.Quantization || q.GroupSize != first.GroupSize
                || q.InFeatures != first.InFeatures || x.shape[1] != q.InFeatures || !(rows <= q.Policy.KernelMaxRows || PrefillVnni))
                return null;
        }
        using var xc = x.contiguous();
        var outputs = new Tensor[weights.Count];
        var jobs = new VnniGemv.Weight[weights.Count];
        var threads = 1;
        for (var i = 0; i < weights.Count; i++)
        {
            var w = (QuantizedWeight)weights[i];
            outputs[i] = empty(rows, w.OutFeatures, ScalarType.Float32); // (T, out_i)
            jobs[i] = new VnniGemv.Weight(Data(w._packed.Q), Data(w._packed.Scales), Data(w._packed.Sub), (float*)Data(w._packed.RowFactors), (int)w.OutFeatures,
                (float*)Data(outputs[i]));
            threads = Math.Max(threads, w.KernelThreads);
        }
        VnniGemv.ComputeGroup((float*)Data(xc), rows, first.GroupSize, (int)first.InFeatures, first.Int4, jobs, threads);
        GC.KeepAlive(weights);
        return outputs;
    }

    /// <summary>The data of a contiguous CPU tensor (native memory: no pinning needed).</summary>
    private static unsafe byte* Data(Tensor t) => t.NumberOfElements == 0 ? null : (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(t.bytes));

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
        fixed (byte* qp = _packed.Q.bytes)
        fixed (byte* sp = _packed.Scales.bytes)
        fixed (byte* up = _packed.Sub.bytes)
        fixed (byte* fp = _packed.RowFactors.bytes)
        fixed (byte* yp = y.bytes)
        {
            QuantGemv.Compute((float*)xp, rows, qp, sp, up, (float*)fp, GroupSize, outF, (int)InFeatures, (float*)yp, Int4, KernelThreads);
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
            var w = WeightQuantizer.Dequantize(_packed, Quantization, GroupSize, (int)InFeatures, o0, n); // (n, in)
            y.narrow(1, o0, n).copy_(nn.functional.linear(x, w));
        }
        return y;
    }

    /// <summary>
    /// CPU prefill: x (T, in) → (T, out). x's columns are put in the weight's storage order once; then WidenBlockRows
    /// weight rows at a time are dequantized by the SIMD loop into one reused scratch (stays in cache) for
    /// libtorch's GEMM, in bf16 (x rounded to bf16 too, as the dense bf16 path does) or f32.
    /// </summary>
    internal unsafe Tensor ProjectDequantizingBlocks(Tensor x, bool bf16)
    {
        var outF = OutFeatures;
        var inF = (int)InFeatures;
        var padded = QuantLayout.PaddedWidth(inF, GroupSize);
        var block = Policy.WidenBlockRows > 0 ? (long)Policy.WidenBlockRows : outF;
        var dtype = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var y = empty(x.shape[0], outF, ScalarType.Float32); // (T, out)
        using var xs = StorageOrder(x).to(dtype); // (T, padded)
        using var scratch = empty(Math.Min(block, outF), padded, dtype); // (block, padded)
        var rowBytes = QuantLayout.RowBytes(inF, GroupSize, Int4);
        var scaleBytes = QuantLayout.ScaleBytes(inF, GroupSize, Int4);
        var subBytes = QuantLayout.SubBytes(inF, GroupSize, Int4);
        fixed (byte* qp = _packed.Q.bytes)
        fixed (byte* sp = _packed.Scales.bytes)
        fixed (byte* up = _packed.Sub.bytes)
        fixed (byte* fp = _packed.RowFactors.bytes)
        fixed (byte* wp = scratch.bytes)
        {
            for (long o0 = 0; o0 < outF; o0 += block)
            {
                var n = Math.Min(block, outF - o0);
                DequantBlocks.DequantizeRows(qp + o0 * rowBytes, sp + o0 * scaleBytes, up + o0 * subBytes, (float*)fp + o0, (int)n, inF, GroupSize, Int4, wp, bf16);
                using var w = scratch.narrow(0, 0, n);
                using var part = nn.functional.linear(xs, w); // (T, n)
                using var dst = y.narrow(1, o0, n);
                dst.copy_(part);
            }
        }
        return y;
    }

    /// <summary>x (T, in) → (T, padded) with column c at <see cref="QuantLayout.Position"/>(c), padding 0.</summary>
    private Tensor StorageOrder(Tensor x)
    {
        var inF = (int)InFeatures;
        var padded = QuantLayout.PaddedWidth(inF, GroupSize);
        if (_columnOrder is null)
        {
            // source[pos] = the column stored at pos (inF, the padding column, past the end).
            var source = Enumerable.Repeat((long)inF, padded).ToArray();
            for (var c = 0; c < inF; c++) source[QuantLayout.Position(c, GroupSize)] = c;
            _columnOrder = tensor(source, ScalarType.Int64);
        }
        using var withZero = nn.functional.pad(x, [0, 1]); // (T, in + 1), last column 0
        return withZero.index_select(1, _columnOrder);
    }

    public override Tensor ToFloat() => WeightQuantizer.Dequantize(_packed, Quantization, GroupSize, (int)InFeatures, 0, OutFeatures);

    public override void Dispose()
    {
        _packed.Q.Dispose();
        _packed.Scales.Dispose();
        _packed.Sub.Dispose();
        _packed.RowFactors.Dispose();
        _columnOrder?.Dispose();
    }
}

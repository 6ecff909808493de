using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>SIMD width for <see cref="ReducedGemv"/>; <see cref="Auto"/> picks the widest the CPU accelerates.</summary>
internal enum GemvWidth
{
    Auto,
    V256,
    V512,
    /// <summary>bf16 weights only: AVX512-BF16 dot products on bf16-rounded activations (<see cref="Bf16DotGemv"/>).</summary>
    Bf16Dot,
    /// <summary>int8/int4 weights only: AVX512-VNNI dot products on activations quantized to int8 per group (<see cref="VnniGemv"/>).</summary>
    Vnni,
}

/// <summary>
/// <c>y = x Wᵀ</c> for a few f32 rows against a bf16/f16 weight, read in place (no widened copy): the
/// batch-1 decode path. Weights widen exactly to f32 and accumulate with f32 FMAs, so results are at least
/// as accurate as libtorch's reduced-precision linear (which also rounds x and y to bf16). Output rows are
/// split across the given number of threads; the kernel is memory-bandwidth bound.
/// </summary>
internal static unsafe class ReducedGemv
{
    /// <summary>True when this CPU has a SIMD path (AVX2+FMA or accelerated 512-bit); else callers use libtorch.</summary>
    public static bool Supported { get; } = Vector512.IsHardwareAccelerated || (Avx2.IsSupported && Fma.IsSupported);

    /// <summary>Whether <see cref="Project"/> accepts this pair (CPU, 2-D, contiguous, f32 × bf16/f16).</summary>
    public static bool Accepts(Tensor x, Tensor weight) =>
        Supported && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && x.dim() == 2 && weight.dim() == 2 && x.dtype == ScalarType.Float32
        && (weight.dtype == ScalarType.BFloat16 || weight.dtype == ScalarType.Float16)
        && x.shape[1] == weight.shape[1] && weight.is_contiguous()
        && weight.shape[0] <= int.MaxValue && weight.shape[1] <= int.MaxValue;

    /// <summary>x (T, in) f32 → (T, out) f32, with weight (out, in) bf16/f16; see <see cref="Accepts"/>.</summary>
    public static Tensor Project(Tensor x, Tensor weight, int threads)
    {
        if (!Accepts(x, weight)) throw new ArgumentException($"ReducedGemv needs CPU f32 x (T, in) and a contiguous bf16/f16 weight (out, in); got x {x.dtype} [{string.Join(", ", x.shape)}], weight {weight.dtype} [{string.Join(", ", weight.shape)}].");
        var rows = (int)x.shape[0];
        var outF = (int)weight.shape[0];
        var inF = (int)weight.shape[1];
        using var xc = x.contiguous();
        var y = empty(rows, outF, ScalarType.Float32); // (T, out)
        if (rows == 0 || outF == 0) return y;
        fixed (byte* xp = xc.bytes)
        fixed (byte* wp = weight.bytes)
        fixed (byte* yp = y.bytes)
        {
            Compute((float*)xp, rows, (ushort*)wp, outF, inF, (float*)yp, weight.dtype == ScalarType.Float16, threads);
        }
        return y;
    }

    /// <summary>
    /// The GEMV of contiguous x (T, in) against weight (see <see cref="Accepts"/>) into y (T, out) f32, as a job to
    /// run later (in a <see cref="GemvGroup"/>); the tensors must outlive it (their memory is native, not moved).
    /// </summary>
    public static GemvJob Job(Tensor x, Tensor weight, Tensor y)
    {
        if (!Accepts(x, weight) || !x.is_contiguous() || !y.is_contiguous() || y.dtype != ScalarType.Float32
            || y.shape[0] != x.shape[0] || y.shape[1] != weight.shape[0])
            throw new ArgumentException("ReducedGemv.Job needs contiguous x (T, in), weight (out, in) and f32 y (T, out).");
        var width = Resolve(GemvWidth.Auto, weight.dtype == ScalarType.Float16, (int)weight.shape[0], (int)weight.shape[1]);
        return new GemvJob(Pointer<float>(x), (int)x.shape[0], Pointer<ushort>(weight), (int)weight.shape[0], (int)weight.shape[1], Pointer<float>(y),
            weight.dtype == ScalarType.Float16, width);
    }

    /// <summary>Auto: AVX512-BF16 for bf16 weights it takes, else the widest accelerated f32 lanes.</summary>
    internal static GemvWidth Resolve(GemvWidth width, bool f16, int outF, int inF)
    {
        if (width == GemvWidth.Bf16Dot && (f16 || !Bf16DotGemv.Accepts(outF, inF)))
            throw new ArgumentException($"The bf16 dot-product path needs bf16 weights, inF a multiple of 32 and outF of 4 on a CPU with AVX512-BF16; got {(f16 ? "f16" : "bf16")} ({outF}, {inF}), available {Bf16DotGemv.Available}.");
        if (width != GemvWidth.Auto) return width;
        if (!f16 && Bf16DotGemv.Accepts(outF, inF)) return GemvWidth.Bf16Dot;
        return Vector512.IsHardwareAccelerated ? GemvWidth.V512 : GemvWidth.V256;
    }

    private static T* Pointer<T>(Tensor t) where T : unmanaged =>
        (T*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(t.bytes));

    /// <summary>Checked span form of <see cref="Compute(float*, int, ushort*, int, int, float*, bool, int, GemvWidth)"/>.</summary>
    public static void Compute(ReadOnlySpan<float> x, int rows, ReadOnlySpan<ushort> w, int outF, int inF, Span<float> y, bool f16, int threads, GemvWidth width = GemvWidth.Auto)
    {
        if (rows < 0 || outF < 0 || inF < 0) throw new ArgumentOutOfRangeException(nameof(rows), "rows, outF and inF must be non-negative.");
        if (x.Length < (long)rows * inF || w.Length < (long)outF * inF || y.Length < (long)rows * outF)
            throw new ArgumentException($"spans too short for x ({rows}, {inF}), w ({outF}, {inF}), y ({rows}, {outF}).");
        fixed (float* xp = x)
        fixed (ushort* wp = w)
        fixed (float* yp = y)
        {
            Compute(xp, rows, wp, outF, inF, yp, f16, threads, width);
        }
    }

    /// <summary>Raw form: x (rows, inF), w (outF, inF) raw 16-bit, y (rows, outF); all row-major, unaliased.</summary>
    public static void Compute(float* x, int rows, ushort* w, int outF, int inF, float* y, bool f16, int threads, GemvWidth width = GemvWidth.Auto)
    {
        width = Resolve(width, f16, outF, inF);
        var job = new GemvJob(x, rows, w, outF, inF, y, f16, width);
        // Below ~64k weights a hand-off costs more than it saves.
        var parts = (long)outF * inF < 65536 ? 1 : Math.Clamp(threads, 1, Math.Max(1, outF / 16));
        GemvWorkers.Shared.Run(job, parts);
    }
}

/// <summary>Weight storage of one <see cref="GemvJob"/>.</summary>
internal enum GemvWeights
{
    Bf16,
    F16,
    Int8,
    Int4,
}

/// <summary>
/// One GEMV, executable in parts over disjoint output-row ranges (64-byte aligned to avoid false sharing):
/// 16-bit weights (<see cref="ReducedGemv"/>) or quantized groups with scales (<see cref="QuantGemv"/>).
/// </summary>
internal readonly unsafe struct GemvJob
{
    private readonly float* _x;
    private readonly float* _y;
    private readonly void* _w;
    private readonly float* _scales;
    private readonly int _rows;
    private readonly int _outF;
    private readonly int _inF;
    private readonly int _group;
    private readonly GemvWeights _weights;
    private readonly GemvWidth _width;

    public GemvJob(float* x, int rows, ushort* w, int outF, int inF, float* y, bool f16, GemvWidth width)
        : this(x, rows, w, null, 0, outF, inF, y, f16 ? GemvWeights.F16 : GemvWeights.Bf16, width)
    {
    }

    public GemvJob(float* x, int rows, void* w, float* scales, int group, int outF, int inF, float* y, GemvWeights weights, GemvWidth width)
    {
        _x = x;
        _rows = rows;
        _w = w;
        _scales = scales;
        _group = group;
        _outF = outF;
        _inF = inF;
        _y = y;
        _weights = weights;
        _width = width;
    }

    public void Execute(int part, int parts)
    {
        var (o0, o1) = PartitionedWork.OutputRange(_outF, part, parts);
        if (o0 >= o1) return;
        float* x = _x, y = _y;
        int rows = _rows, inF = _inF, outF = _outF;
        var wide = _width == GemvWidth.V512;
        switch (_weights)
        {
            case GemvWeights.Bf16 when _width == GemvWidth.Bf16Dot:
                Bf16DotGemv.Project(x, rows, (ushort*)_w, inF, outF, y, o0, o1);
                break;
            case GemvWeights.Bf16 when wide:
                GemvBlocks.Run<Lanes512, Vector512<float>, Bf16Format>(x, rows, (ushort*)_w, inF, outF, y, o0, o1);
                break;
            case GemvWeights.F16 when wide:
                GemvBlocks.Run<Lanes512, Vector512<float>, F16Format>(x, rows, (ushort*)_w, inF, outF, y, o0, o1);
                break;
            case GemvWeights.Bf16:
                GemvBlocks.Run<Lanes256, Vector256<float>, Bf16Format>(x, rows, (ushort*)_w, inF, outF, y, o0, o1);
                break;
            case GemvWeights.F16:
                GemvBlocks.Run<Lanes256, Vector256<float>, F16Format>(x, rows, (ushort*)_w, inF, outF, y, o0, o1);
                break;
            default:
                // int8/int4 run through QuantGemv's own job (GemvWorkers' function-pointer form).
                throw new InvalidOperationException($"GemvJob does not run {_weights} weights.");
        }
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// <c>y = x Wᵀ</c> for a few f32 rows against int8/int4 weights in the packed layout of <see cref="QuantLayout"/>.
/// With AVX512-VNNI the rows are quantized to int8 per group and dotted by emitted <c>vpdpbusd</c> micro-kernels
/// (<see cref="VnniGemv"/>); otherwise they are quantized to int16 per row (<see cref="QuantActivations"/>) and dotted
/// by <c>vpmaddwd</c> tiles (AVX-512BW or AVX2). Either way a super-block accumulates in integer lanes and is scaled in
/// f32, the weight is read once per call whatever the row count (1–16 decode rows of a batched step), and output
/// rows are split across the shared GEMV workers.
/// </summary>
/// <remarks>
/// .NET 10 exposes <c>vpdpbusd</c> only as <c>AvxVnni</c>/<c>Avx10v1</c>, which AVX-512-VNNI CPUs such as Zen 4 do
/// not report, hence the emitted code. Without VNNI the dot is <c>vpmovsxbw</c> + <c>vpmaddwd</c> + <c>vpaddd</c>,
/// 3 instructions per 32 weights per activation row: enough for one row, compute-bound for a batch.
/// </remarks>
internal static unsafe class QuantGemv
{
    /// <summary>Groups are whole chunks of two 32-weight steps.</summary>
    public const int GroupMultiple = 32;

    public static bool Supported { get; } = Avx512BW.IsSupported || (Avx2.IsSupported && Fma.IsSupported);

    /// <summary>Checked span form of the raw <see cref="Compute(float*, int, byte*, byte*, byte*, float*, int, int, int, float*, bool, int, GemvWidth)"/>.</summary>
    public static void Compute(ReadOnlySpan<float> x, int rows, ReadOnlySpan<byte> q, ReadOnlySpan<byte> scales, ReadOnlySpan<byte> sub, ReadOnlySpan<float> rowFactors,
        int group, int outF, int inF, Span<float> y, bool int4, int threads, GemvWidth width = GemvWidth.Auto)
    {
        Check(rows, group, outF, inF);
        var rowBytes = QuantLayout.RowBytes(inF, group, int4);
        var scaleBytes = QuantLayout.ScaleBytes(inF, group, int4);
        var subBytes = QuantLayout.SubBytes(inF, group, int4);
        if (x.Length < (long)rows * inF || q.Length < outF * rowBytes || scales.Length < outF * scaleBytes || sub.Length < outF * subBytes
            || rowFactors.Length < outF || y.Length < (long)rows * outF)
            throw new ArgumentException($"spans too short for x ({rows}, {inF}), q ({outF}, {rowBytes} bytes), scales ({outF}, {scaleBytes} bytes), sub-scales ({outF}, {subBytes} bytes), factors ({outF}), y ({rows}, {outF}).");
        fixed (float* xp = x)
        fixed (byte* qp = q)
        fixed (byte* sp = scales)
        fixed (byte* up = sub)
        fixed (float* fp = rowFactors)
        fixed (float* yp = y)
        {
            Compute(xp, rows, qp, sp, up, fp, group, outF, inF, yp, int4, threads, width);
        }
    }

    /// <summary>
    /// Raw form: x (rows, inF) f32, q (outF, <see cref="QuantLayout.RowBytes"/>), scales (outF, <see cref="QuantLayout.ScaleBytes"/>),
    /// sub-scales (outF, <see cref="QuantLayout.SubBytes"/>; int4 only), rowFactors (outF) f32, y (rows, outF) f32; row-major, unaliased.
    /// </summary>
    public static void Compute(float* x, int rows, byte* q, byte* scales, byte* sub, float* rowFactors, int group, int outF, int inF, float* y, bool int4,
        int threads, GemvWidth width = GemvWidth.Auto)
    {
        Check(rows, group, outF, inF);
        if (rows == 0 || outF == 0) return;
        if (width == GemvWidth.Auto) width = VnniGemv.Available ? GemvWidth.Vnni : Avx512BW.IsSupported ? GemvWidth.V512 : GemvWidth.V256;
        if (width == GemvWidth.Vnni)
        {
            VnniGemv.Compute(x, rows, q, scales, sub, rowFactors, group, outF, inF, y, int4, threads);
            return;
        }
        if (width == GemvWidth.V512 && !Avx512BW.IsSupported) throw new PlatformNotSupportedException("the 512-bit quantized kernel needs AVX-512BW.");
        if (!Avx2.IsSupported) throw new PlatformNotSupportedException("the quantized kernels need AVX2 (callers check Supported).");
        var padded = QuantLayout.PaddedWidth(inF, group);
        var groups = padded / group;
        // One scratch for the quantized rows, their scales and group sums (64-byte aligned for the vector loads).
        var bytes = (nuint)((long)rows * padded * 2 + rows * 4L + (long)rows * groups * 4 + 192);
        var block = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        try
        {
            var xq = (short*)block;
            var sums = (float*)(block + (((long)rows * padded * 2 + 63) & ~63));
            var xs = sums + (((long)rows * groups + 15) & ~15);
            QuantActivations.Quantize(x, rows, inF, group, xq, xs, sums);
            var args = new QuantGemvArgs
            {
                X = xq, XScale = xs, Sums = sums, Rows = rows, Padded = padded, Groups = groups,
                W = q, S = scales, Sub = sub, RowFactor = rowFactors, RowBytes = QuantLayout.RowBytes(inF, group, int4),
                ScaleRowBytes = QuantLayout.ScaleBytes(inF, group, int4), SubRowBytes = QuantLayout.SubBytes(inF, group, int4),
                Group = group, SuperBlocks = QuantLayout.SuperBlocks(inF, group), OutF = outF, Y = y,
                Kind = (int4 ? 1 : 0) | (width == GemvWidth.V512 ? 2 : 0),
            };
            // Below ~64k weights a hand-off costs more than it saves.
            var parts = (long)outF * inF < 65536 ? 1 : Math.Clamp(threads, 1, Math.Max(1, outF / 16));
            GemvWorkers.Shared.Run(&Execute, &args, parts);
        }
        finally
        {
            NativeMemory.AlignedFree(block);
        }
    }

    private static void Execute(void* state, int part, int parts)
    {
        ref readonly var a = ref *(QuantGemvArgs*)state;
        var (o0, o1) = PartitionedWork.OutputRange(a.OutF, part, parts);
        if (o0 >= o1) return;
        switch (a.Kind)
        {
            case 0: QuantBlocks256.Run<Int8Format>(a, o0, o1); break;
            case 1: QuantBlocks256.Run<Int4Format>(a, o0, o1); break;
            case 2: QuantBlocks.Run<Int8Format>(a, o0, o1); break;
            default: QuantBlocks.Run<Int4Format>(a, o0, o1); break;
        }
    }

    private static void Check(int rows, int group, int outF, int inF)
    {
        if (rows < 0 || outF < 0 || inF < 0) throw new ArgumentOutOfRangeException(nameof(rows), "rows, outF and inF must be non-negative.");
        if (group <= 0 || group % GroupMultiple != 0)
            throw new ArgumentException($"group size {group} must be a positive multiple of {GroupMultiple}.", nameof(group));
    }
}

/// <summary>Everything one quantized GEMV's tiles read: the quantized activations, the packed weight and the output.</summary>
internal unsafe struct QuantGemvArgs
{
    public short* X;
    public float* XScale;
    public float* Sums;
    public int Rows;
    public int Padded;
    public int Groups;
    public byte* W;
    public byte* S;
    public byte* Sub;
    public float* RowFactor;
    public long RowBytes;
    public long ScaleRowBytes;
    public long SubRowBytes;
    public int Group;
    public int SuperBlocks;
    public int OutF;
    public float* Y;
    public int Kind;
}

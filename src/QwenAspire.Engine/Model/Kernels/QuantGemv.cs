using System.Runtime.Intrinsics;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// <c>y = x Wᵀ</c> for a few f32 rows against int8/int4 weights quantized in groups of input columns with one
/// f32 scale per group (<c>Weights/QuantizedWeight</c>): dequantized in registers, f32 FMAs, activations exact.
/// The weight is read once per call whatever the row count (1–16 decode rows of a batched step); output rows
/// are split across the shared GEMV workers.
/// </summary>
/// <remarks>
/// An int8-activation VNNI kernel (vpdpbusd) would do 4× fewer multiply instructions, but .NET 10 exposes
/// vpdpbusd only as <c>AvxVnni</c> (VEX), which AVX-512-VNNI CPUs such as Zen 4 do not report; the decode rows
/// that matter here are bandwidth-bound, so the f32 path loses little and keeps activations unquantized.
/// </remarks>
internal static unsafe class QuantGemv
{
    /// <summary>Groups must hold whole 512-bit steps (32 weights) so no kernel has an inner tail.</summary>
    public const int GroupMultiple = 32;

    public static bool Supported => ReducedGemv.Supported;

    /// <summary>Checked span form of the raw <see cref="Compute(float*, int, byte*, float*, int, int, int, float*, bool, int, GemvWidth)"/>.</summary>
    public static void Compute(ReadOnlySpan<float> x, int rows, ReadOnlySpan<byte> q, ReadOnlySpan<float> scales, int group, int outF, int inF,
        Span<float> y, bool int4, int threads, GemvWidth width = GemvWidth.Auto)
    {
        Check(rows, group, outF, inF);
        var rowBytes = int4 ? inF / 2 : inF;
        if (x.Length < (long)rows * inF || q.Length < (long)outF * rowBytes || scales.Length < (long)outF * (inF / group) || y.Length < (long)rows * outF)
            throw new ArgumentException($"spans too short for x ({rows}, {inF}), q ({outF}, {rowBytes} bytes), scales ({outF}, {inF / group}), y ({rows}, {outF}).");
        fixed (float* xp = x)
        fixed (byte* qp = q)
        fixed (float* sp = scales)
        fixed (float* yp = y)
        {
            Compute(xp, rows, qp, sp, group, outF, inF, yp, int4, threads, width);
        }
    }

    /// <summary>Raw form: x (rows, inF), q (outF, packed row), scales (outF, inF / group), y (rows, outF); row-major, unaliased.</summary>
    public static void Compute(float* x, int rows, byte* q, float* scales, int group, int outF, int inF, float* y, bool int4, int threads, GemvWidth width = GemvWidth.Auto)
    {
        Check(rows, group, outF, inF);
        if (rows == 0 || outF == 0) return;
        if (width == GemvWidth.Auto) width = Vector512.IsHardwareAccelerated ? GemvWidth.V512 : GemvWidth.V256;
        var job = new GemvJob(x, rows, q, scales, group, outF, inF, y, int4 ? GemvWeights.Int4 : GemvWeights.Int8, width);
        // Below ~64k weights a hand-off costs more than it saves.
        var parts = (long)outF * inF < 65536 ? 1 : Math.Clamp(threads, 1, Math.Max(1, outF / 16));
        GemvWorkers.Shared.Run(job, parts);
    }

    private static void Check(int rows, int group, int outF, int inF)
    {
        if (rows < 0 || outF < 0 || inF < 0) throw new ArgumentOutOfRangeException(nameof(rows), "rows, outF and inF must be non-negative.");
        if (group <= 0 || group % GroupMultiple != 0 || inF % group != 0)
            throw new ArgumentException($"group size {group} must be a positive multiple of {GroupMultiple} dividing the input width {inF}.", nameof(group));
    }
}

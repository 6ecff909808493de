using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// The many-row form of <see cref="QuantBlocks"/>: four weight rows are dequantized once into an f32 scratch that
/// stays in L1/L2, then every x row block runs plain f32 FMAs over it, so dequantization is paid once per weight
/// instead of once per x row block (batched decode of 4–16 rows is FMA-bound, not bandwidth-bound).
/// </summary>
internal static unsafe class DequantBlocks
{
    /// <summary>From this many x rows the dequantize-once path beats dequantizing per 4-row block in registers.</summary>
    public static int MinRows { get; } = int.TryParse(Environment.GetEnvironmentVariable("QWENASPIRE_DEQUANT_MIN_ROWS"), out var r) ? r : 4;

    [ThreadStatic]
    private static float[]? t_scratch;

    /// <summary>Same contract as <see cref="QuantBlocks.Run{TL, TV, TQ}"/> for o1 − o0 a multiple of 4.</summary>
    public static void Run<TL, TV, TQ>(float* x, int rows, byte* q, float* s, int n, int group, int outF, float* y, int o0, int o1)
        where TL : struct, IVectorLanes<TV> where TV : struct where TQ : struct, IQuantFormat
    {
        var rowBytes = TQ.RowBytes(n);
        var groups = n / group;
        if (t_scratch is null || t_scratch.Length < 4 * n) t_scratch = new float[4 * n];
        fixed (float* w = t_scratch)
        {
            for (var o = o0; o < o1; o += 4)
            {
                for (var r = 0; r < 4; r++) Dequantize<TL, TV, TQ>(q + (o + r) * rowBytes, s + (long)(o + r) * groups, groups, group, w + (long)r * n);
                var t = 0;
                for (; t + 4 <= rows; t += 4) Block4x4<TL, TV>(w, n, x + (long)t * n, y + (long)t * outF + o, outF);
                for (; t < rows; t++) Block4x1<TL, TV>(w, n, x + (long)t * n, y + (long)t * outF + o);
            }
        }
    }

    /// <summary>Rows of a packed weight to f32 (rows, n): the prefill path's block dequantizer.</summary>
    public static void DequantizeRows(byte* q, float* s, int rows, int n, int group, bool int4, float* w)
    {
        var groups = n / group;
        for (var r = 0; r < rows; r++)
        {
            var dst = w + (long)r * n;
            var scales = s + (long)r * groups;
            switch (Vector512.IsHardwareAccelerated, int4)
            {
                case (true, false): Dequantize<Lanes512, Vector512<float>, Int8Format>(q + (long)r * n, scales, groups, group, dst); break;
                case (true, true): Dequantize<Lanes512, Vector512<float>, Int4Format>(q + (long)r * (n / 2), scales, groups, group, dst); break;
                case (false, false): Dequantize<Lanes256, Vector256<float>, Int8Format>(q + (long)r * n, scales, groups, group, dst); break;
                default: Dequantize<Lanes256, Vector256<float>, Int4Format>(q + (long)r * (n / 2), scales, groups, group, dst); break;
            }
        }
    }

    private static void Dequantize<TL, TV, TQ>(byte* row, float* scales, int groups, int group, float* w)
        where TL : struct, IVectorLanes<TV> where TV : struct where TQ : struct, IQuantFormat
    {
        var c = TL.Count;
        for (var g = 0; g < groups; g++)
        {
            var k = TL.Broadcast(scales[g]);
            var end = (g + 1) * group;
            for (var i = g * group; i < end; i += 2 * c)
            {
                TL.LoadQuant<TQ>(row, i, out var l, out var h);
                TL.Store(TL.Mul(l, k), w + i);
                TL.Store(TL.Mul(h, k), w + i + c);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x4<TL, TV>(float* w0, int n, float* x0, float* y0, int outF)
        where TL : struct, IVectorLanes<TV> where TV : struct
    {
        float* w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        float* x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        TV a00 = TL.Zero, a10 = TL.Zero, a20 = TL.Zero, a30 = TL.Zero, a01 = TL.Zero, a11 = TL.Zero, a21 = TL.Zero, a31 = TL.Zero;
        TV a02 = TL.Zero, a12 = TL.Zero, a22 = TL.Zero, a32 = TL.Zero, a03 = TL.Zero, a13 = TL.Zero, a23 = TL.Zero, a33 = TL.Zero;
        var c = TL.Count;
        // n is a multiple of the group size (itself a multiple of 32): no tail.
        for (var i = 0; i < n; i += c)
        {
            TV p0 = TL.Load(x0 + i), p1 = TL.Load(x1 + i), p2 = TL.Load(x2 + i), p3 = TL.Load(x3 + i);
            var v = TL.Load(w0 + i);
            a00 = TL.Fma(v, p0, a00); a01 = TL.Fma(v, p1, a01); a02 = TL.Fma(v, p2, a02); a03 = TL.Fma(v, p3, a03);
            v = TL.Load(w1 + i);
            a10 = TL.Fma(v, p0, a10); a11 = TL.Fma(v, p1, a11); a12 = TL.Fma(v, p2, a12); a13 = TL.Fma(v, p3, a13);
            v = TL.Load(w2 + i);
            a20 = TL.Fma(v, p0, a20); a21 = TL.Fma(v, p1, a21); a22 = TL.Fma(v, p2, a22); a23 = TL.Fma(v, p3, a23);
            v = TL.Load(w3 + i);
            a30 = TL.Fma(v, p0, a30); a31 = TL.Fma(v, p1, a31); a32 = TL.Fma(v, p2, a32); a33 = TL.Fma(v, p3, a33);
        }
        Store4(y0, TL.Sum(a00), TL.Sum(a10), TL.Sum(a20), TL.Sum(a30));
        Store4(y0 + outF, TL.Sum(a01), TL.Sum(a11), TL.Sum(a21), TL.Sum(a31));
        Store4(y0 + 2L * outF, TL.Sum(a02), TL.Sum(a12), TL.Sum(a22), TL.Sum(a32));
        Store4(y0 + 3L * outF, TL.Sum(a03), TL.Sum(a13), TL.Sum(a23), TL.Sum(a33));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x1<TL, TV>(float* w0, int n, float* x, float* y)
        where TL : struct, IVectorLanes<TV> where TV : struct
    {
        float* w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
        var c = TL.Count;
        for (var i = 0; i < n; i += c)
        {
            var p = TL.Load(x + i);
            a0 = TL.Fma(TL.Load(w0 + i), p, a0);
            a1 = TL.Fma(TL.Load(w1 + i), p, a1);
            a2 = TL.Fma(TL.Load(w2 + i), p, a2);
            a3 = TL.Fma(TL.Load(w3 + i), p, a3);
        }
        Store4(y, TL.Sum(a0), TL.Sum(a1), TL.Sum(a2), TL.Sum(a3));
    }

    private static void Store4(float* y, float a, float b, float c, float d)
    {
        y[0] = a;
        y[1] = b;
        y[2] = c;
        y[3] = d;
    }
}

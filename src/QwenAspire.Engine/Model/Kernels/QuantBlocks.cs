using System.Runtime.CompilerServices;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// Register-blocked inner loops of <see cref="QuantGemv"/>: <c>y[t, o] = Σ_g s[o, g] Σ_{i∈g} q[o, i] · x[t, i]</c>.
/// Weights are widened to f32 and scaled in registers (activations stay exact f32); four weight rows are
/// dequantized together and each dequantized vector serves two x rows, and the 4-row weight block stays in
/// L1/L2 while every x row pair passes over it, so memory sees the weight once per call.
/// </summary>
internal static unsafe class QuantBlocks
{
    /// <summary>x (rows, n) f32, q packed (outF, n), s (outF, n / group) f32, y (rows, outF); fills columns [o0, o1).</summary>
    public static void Run<TL, TV, TQ>(float* x, int rows, byte* q, float* s, int n, int group, int outF, float* y, int o0, int o1)
        where TL : struct, IVectorLanes<TV> where TV : struct where TQ : struct, IQuantFormat
    {
        var rowBytes = TQ.RowBytes(n);
        var groups = n / group;
        var o = o0;
        if (rows >= DequantBlocks.MinRows && TL.Count == 16)
        {
            // Many rows: dequantize each 4-row block once, then f32 FMAs for every x row.
            var whole = o0 + ((o1 - o0) & ~3);
            DequantBlocks.Run<TL, TV, TQ>(x, rows, q, s, n, group, outF, y, o0, whole);
            o = whole;
        }
        for (; o + 4 <= o1; o += 4)
        {
            var qo = q + o * rowBytes;
            var so = s + (long)o * groups;
            var t = 0;
            // 512-bit lanes have registers for 4 x rows (16 accumulators): each dequantized vector serves 4 FMAs.
            if (TL.Count == 16)
            {
                for (; t + 4 <= rows; t += 4) Block4x4<TL, TV, TQ>(qo, rowBytes, so, groups, group, x + (long)t * n, n, y + (long)t * outF + o, outF);
            }
            for (; t + 2 <= rows; t += 2) Block4x2<TL, TV, TQ>(qo, rowBytes, so, groups, group, x + (long)t * n, n, y + (long)t * outF + o, outF);
            if (t < rows) Block4x1<TL, TV, TQ>(qo, rowBytes, so, groups, group, x + (long)t * n, y + (long)t * outF + o);
        }
        for (; o < o1; o++)
        {
            for (var t = 0; t < rows; t++)
                y[(long)t * outF + o] = Dot<TL, TV, TQ>(q + o * rowBytes, s + (long)o * groups, groups, group, x + (long)t * n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x2<TL, TV, TQ>(byte* q0, long rowBytes, float* s0, int groups, int group, float* x0, int n, float* y0, int outF)
        where TL : struct, IVectorLanes<TV> where TV : struct where TQ : struct, IQuantFormat
    {
        byte* q1 = q0 + rowBytes, q2 = q1 + rowBytes, q3 = q2 + rowBytes;
        float* s1 = s0 + groups, s2 = s1 + groups, s3 = s2 + groups;
        var x1 = x0 + n;
        TV a00 = TL.Zero, a10 = TL.Zero, a20 = TL.Zero, a30 = TL.Zero, a01 = TL.Zero, a11 = TL.Zero, a21 = TL.Zero, a31 = TL.Zero;
        var step = 2 * TL.Count;
        for (var g = 0; g < groups; g++)
        {
            TV c0 = TL.Broadcast(s0[g]), c1 = TL.Broadcast(s1[g]), c2 = TL.Broadcast(s2[g]), c3 = TL.Broadcast(s3[g]);
            var end = (g + 1) * group;
            for (var i = g * group; i < end; i += step)
            {
                var p = TL.Load(x0 + i);
                var r = TL.Load(x0 + i + TL.Count);
                var u = TL.Load(x1 + i);
                var v = TL.Load(x1 + i + TL.Count);
                TL.LoadQuant<TQ>(q0, i, out var l, out var h);
                l = TL.Mul(l, c0);
                h = TL.Mul(h, c0);
                a00 = TL.Fma(h, r, TL.Fma(l, p, a00));
                a01 = TL.Fma(h, v, TL.Fma(l, u, a01));
                TL.LoadQuant<TQ>(q1, i, out l, out h);
                l = TL.Mul(l, c1);
                h = TL.Mul(h, c1);
                a10 = TL.Fma(h, r, TL.Fma(l, p, a10));
                a11 = TL.Fma(h, v, TL.Fma(l, u, a11));
                TL.LoadQuant<TQ>(q2, i, out l, out h);
                l = TL.Mul(l, c2);
                h = TL.Mul(h, c2);
                a20 = TL.Fma(h, r, TL.Fma(l, p, a20));
                a21 = TL.Fma(h, v, TL.Fma(l, u, a21));
                TL.LoadQuant<TQ>(q3, i, out l, out h);
                l = TL.Mul(l, c3);
                h = TL.Mul(h, c3);
                a30 = TL.Fma(h, r, TL.Fma(l, p, a30));
                a31 = TL.Fma(h, v, TL.Fma(l, u, a31));
            }
        }
        y0[0] = TL.Sum(a00); y0[1] = TL.Sum(a10); y0[2] = TL.Sum(a20); y0[3] = TL.Sum(a30);
        var y1 = y0 + outF;
        y1[0] = TL.Sum(a01); y1[1] = TL.Sum(a11); y1[2] = TL.Sum(a21); y1[3] = TL.Sum(a31);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x4<TL, TV, TQ>(byte* q0, long rowBytes, float* s0, int groups, int group, float* x0, int n, float* y0, int outF)
        where TL : struct, IVectorLanes<TV> where TV : struct where TQ : struct, IQuantFormat
    {
        byte* q1 = q0 + rowBytes, q2 = q1 + rowBytes, q3 = q2 + rowBytes;
        float* s1 = s0 + groups, s2 = s1 + groups, s3 = s2 + groups;
        float* x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        TV a00 = TL.Zero, a10 = TL.Zero, a20 = TL.Zero, a30 = TL.Zero, a01 = TL.Zero, a11 = TL.Zero, a21 = TL.Zero, a31 = TL.Zero;
        TV a02 = TL.Zero, a12 = TL.Zero, a22 = TL.Zero, a32 = TL.Zero, a03 = TL.Zero, a13 = TL.Zero, a23 = TL.Zero, a33 = TL.Zero;
        var c = TL.Count;
        for (var g = 0; g < groups; g++)
        {
            var end = (g + 1) * group;
            for (var i = g * group; i < end; i += 2 * c)
            {
                TV p0 = TL.Load(x0 + i), r0 = TL.Load(x0 + i + c), p1 = TL.Load(x1 + i), r1 = TL.Load(x1 + i + c);
                TV p2 = TL.Load(x2 + i), r2 = TL.Load(x2 + i + c), p3 = TL.Load(x3 + i), r3 = TL.Load(x3 + i + c);
                TL.LoadQuant<TQ>(q0, i, out var l, out var h);
                var k = TL.Broadcast(s0[g]);
                l = TL.Mul(l, k);
                h = TL.Mul(h, k);
                a00 = TL.Fma(h, r0, TL.Fma(l, p0, a00)); a01 = TL.Fma(h, r1, TL.Fma(l, p1, a01));
                a02 = TL.Fma(h, r2, TL.Fma(l, p2, a02)); a03 = TL.Fma(h, r3, TL.Fma(l, p3, a03));
                TL.LoadQuant<TQ>(q1, i, out l, out h);
                k = TL.Broadcast(s1[g]);
                l = TL.Mul(l, k);
                h = TL.Mul(h, k);
                a10 = TL.Fma(h, r0, TL.Fma(l, p0, a10)); a11 = TL.Fma(h, r1, TL.Fma(l, p1, a11));
                a12 = TL.Fma(h, r2, TL.Fma(l, p2, a12)); a13 = TL.Fma(h, r3, TL.Fma(l, p3, a13));
                TL.LoadQuant<TQ>(q2, i, out l, out h);
                k = TL.Broadcast(s2[g]);
                l = TL.Mul(l, k);
                h = TL.Mul(h, k);
                a20 = TL.Fma(h, r0, TL.Fma(l, p0, a20)); a21 = TL.Fma(h, r1, TL.Fma(l, p1, a21));
                a22 = TL.Fma(h, r2, TL.Fma(l, p2, a22)); a23 = TL.Fma(h, r3, TL.Fma(l, p3, a23));
                TL.LoadQuant<TQ>(q3, i, out l, out h);
                k = TL.Broadcast(s3[g]);
                l = TL.Mul(l, k);
                h = TL.Mul(h, k);
                a30 = TL.Fma(h, r0, TL.Fma(l, p0, a30)); a31 = TL.Fma(h, r1, TL.Fma(l, p1, a31));
                a32 = TL.Fma(h, r2, TL.Fma(l, p2, a32)); a33 = TL.Fma(h, r3, TL.Fma(l, p3, a33));
            }
        }
        Store4(y0, TL.Sum(a00), TL.Sum(a10), TL.Sum(a20), TL.Sum(a30));
        Store4(y0 + outF, TL.Sum(a01), TL.Sum(a11), TL.Sum(a21), TL.Sum(a31));
        Store4(y0 + 2L * outF, TL.Sum(a02), TL.Sum(a12), TL.Sum(a22), TL.Sum(a32));
        Store4(y0 + 3L * outF, TL.Sum(a03), TL.Sum(a13), TL.Sum(a23), TL.Sum(a33));
    }

    private static void Store4(float* y, float a, float b, float c, float d)
    {
        y[0] = a;
        y[1] = b;
        y[2] = c;
        y[3] = d;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x1<TL, TV, TQ>(byte* q0, long rowBytes, float* s0, int groups, int group, float* x, float* y)
        where TL : struct, IVectorLanes<TV> where TV : struct where TQ : struct, IQuantFormat
    {
        byte* q1 = q0 + rowBytes, q2 = q1 + rowBytes, q3 = q2 + rowBytes;
        float* s1 = s0 + groups, s2 = s1 + groups, s3 = s2 + groups;
        TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
        var step = 2 * TL.Count;
        for (var g = 0; g < groups; g++)
        {
            // Per-group partial sums, scaled once per group: the scale multiply leaves the inner loop.
            TV b0 = TL.Zero, b1 = TL.Zero, b2 = TL.Zero, b3 = TL.Zero;
            var end = (g + 1) * group;
            for (var i = g * group; i < end; i += step)
            {
                var p = TL.Load(x + i);
                var r = TL.Load(x + i + TL.Count);
                TL.LoadQuant<TQ>(q0, i, out var l, out var h);
                b0 = TL.Fma(h, r, TL.Fma(l, p, b0));
                TL.LoadQuant<TQ>(q1, i, out l, out h);
                b1 = TL.Fma(h, r, TL.Fma(l, p, b1));
                TL.LoadQuant<TQ>(q2, i, out l, out h);
                b2 = TL.Fma(h, r, TL.Fma(l, p, b2));
                TL.LoadQuant<TQ>(q3, i, out l, out h);
                b3 = TL.Fma(h, r, TL.Fma(l, p, b3));
            }
            a0 = TL.Fma(b0, TL.Broadcast(s0[g]), a0);
            a1 = TL.Fma(b1, TL.Broadcast(s1[g]), a1);
            a2 = TL.Fma(b2, TL.Broadcast(s2[g]), a2);
            a3 = TL.Fma(b3, TL.Broadcast(s3[g]), a3);
        }
        y[0] = TL.Sum(a0);
        y[1] = TL.Sum(a1);
        y[2] = TL.Sum(a2);
        y[3] = TL.Sum(a3);
    }

    private static float Dot<TL, TV, TQ>(byte* q, float* s, int groups, int group, float* x)
        where TL : struct, IVectorLanes<TV> where TV : struct where TQ : struct, IQuantFormat
    {
        var a = TL.Zero;
        var step = 2 * TL.Count;
        for (var g = 0; g < groups; g++)
        {
            var b = TL.Zero;
            var end = (g + 1) * group;
            for (var i = g * group; i < end; i += step)
            {
                TL.LoadQuant<TQ>(q, i, out var l, out var h);
                b = TL.Fma(h, TL.Load(x + i + TL.Count), TL.Fma(l, TL.Load(x + i), b));
            }
            a = TL.Fma(b, TL.Broadcast(s[g]), a);
        }
        return TL.Sum(a);
    }
}

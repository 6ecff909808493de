using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// AVX2 fallback of <see cref="QuantBlocks"/> over the same layout: each 16-lane super-block is handled as two
/// 8-lane halves (groups 0–7 and 8–15); two weight rows per activation row.
/// </summary>
internal static unsafe class QuantBlocks256
{
    public static void Run<TQ>(in QuantGemvArgs a, int o0, int o1) where TQ : struct, IQuantFormat
    {
        var o = o0;
        for (; o + 2 <= o1; o += 2)
        {
            for (var t = 0; t < a.Rows; t++) Tile2x1<TQ>(a, o, t, 2);
        }
        for (; o < o1; o++)
        {
            for (var t = 0; t < a.Rows; t++) Tile2x1<TQ>(a, o, t, 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<short> a, Vector256<short> b, Vector256<short> xa, Vector256<short> xb) =>
        Avx2.MultiplyAddAdjacent(a, xa) + Avx2.MultiplyAddAdjacent(b, xb);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scale<TQ>(Vector256<int> acc, byte* scales, byte* sub, bool high, float* sums, Vector256<float> f)
        where TQ : struct, IQuantFormat
    {
        TQ.Scales(scales, sub, high, out var mul, out var min);
        f = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(acc), mul, f);
        if (TQ.Int4) f = Vector256.FusedMultiplyAdd(-min, Vector256.Load(sums + (high ? 8 : 0)), f);
        return f;
    }

    /// <summary>Weight rows o (and o + 1 when <paramref name="count"/> is 2) against activation row t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x1<TQ>(in QuantGemvArgs a, int o, int t, int count) where TQ : struct, IQuantFormat
    {
        var r = new QuantRowStart<TQ>(a, o);
        int sbBytes = r.SuperBlockBytes, scBytes = r.ScaleBytes, sbCols = r.SuperBlockColumns, chunks = r.Chunks;
        // A single row reads itself twice rather than branching in the loop; only its own result is stored.
        byte* w0 = r.W, w1 = count == 2 ? w0 + a.RowBytes : w0;
        byte* s0 = r.S, s1 = count == 2 ? s0 + a.ScaleRowBytes : s0;
        byte* u0 = r.Sub, u1 = count == 2 ? u0 + a.SubRowBytes : u0;
        var x0 = a.X + (long)t * a.Padded;
        var m0 = a.Sums + (long)t * a.Groups;
        Vector256<float> f0 = default, g0 = default, f1 = default, g1 = default;
        for (var s = 0; s < a.SuperBlocks; s++)
        {
            Vector256<int> c0 = default, d0 = default, c1 = default, d1 = default;
            var wo = (long)s * sbBytes;
            var xs = x0 + (long)s * sbCols;
            for (var m = 0; m < chunks; m++)
            {
                var xa0 = Vector256.Load(xs + 64 * m);
                var xa1 = Vector256.Load(xs + 64 * m + 16);
                var xb0 = Vector256.Load(xs + 64 * m + 32);
                var xb1 = Vector256.Load(xs + 64 * m + 48);
                TQ.Load(w0 + wo, m, out var p0, out var p1, out var q0, out var q1);
                c0 += Dot(p0, q0, xa0, xb0);
                d0 += Dot(p1, q1, xa1, xb1);
                TQ.Load(w1 + wo, m, out p0, out p1, out q0, out q1);
                c1 += Dot(p0, q0, xa0, xb0);
                d1 += Dot(p1, q1, xa1, xb1);
            }
            var so = (long)s * scBytes;
            var uo = (long)s * TQ.SubBytes;
            var mo = m0 + s * QuantLayout.Lanes;
            f0 = Scale<TQ>(c0, s0 + so, u0 + uo, false, mo, f0);
            g0 = Scale<TQ>(d0, s0 + so, u0 + uo, true, mo, g0);
            f1 = Scale<TQ>(c1, s1 + so, u1 + uo, false, mo, f1);
            g1 = Scale<TQ>(d1, s1 + so, u1 + uo, true, mo, g1);
        }
        var y = a.Y + (long)t * a.OutF + o;
        var xscale = a.XScale[t];
        y[0] = Vector256.Sum(f0 + g0) * xscale * a.RowFactor[o];
        if (count == 2) y[1] = Vector256.Sum(f1 + g1) * xscale * a.RowFactor[o + 1];
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// AVX2 fallback of <see cref="QuantBlocks"/> over the same layout: a quad is four 16-slot quarters (groups 4q..4q+3,
/// each in a lane pair after <c>vpmaddwd</c>); once per super-block <c>vphaddd</c> + <c>vpermq</c> put groups 0–7 and
/// 8–15 in the lanes of two 8-lane halves. Two weight rows per activation row.
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
    private static Vector256<int> Dot(Vector256<short> w, short* x) => Avx2.MultiplyAddAdjacent(w, Vector256.Load(x));

    /// <summary>Quarters q, q+1 (lane pairs of groups 4q..4q+7) → lane i = group 4q + i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairSum(Vector256<int> a, Vector256<int> b) =>
        Avx2.Permute4x64(Avx2.HorizontalAdd(a, b).AsInt64(), 0xd8).AsInt32();

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
        int sbBytes = r.SuperBlockBytes, scBytes = r.ScaleBytes, sbCols = r.SuperBlockColumns, quads = 2 * r.Chunks;
        // A single row reads itself twice rather than branching in the loop; only its own result is stored.
        byte* w0 = r.W, w1 = count == 2 ? w0 + a.RowBytes : w0;
        byte* s0 = r.S, s1 = count == 2 ? s0 + a.ScaleRowBytes : s0;
        byte* u0 = r.Sub, u1 = count == 2 ? u0 + a.SubRowBytes : u0;
        var x0 = a.X + (long)t * a.Padded;
        var m0 = a.Sums + (long)t * a.Groups;
        Vector256<float> f0 = default, g0 = default, f1 = default, g1 = default;
        for (var s = 0; s < a.SuperBlocks; s++)
        {
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default, e0 = default, e1 = default, e2 = default, e3 = default;
            byte* ws0 = w0 + (long)s * sbBytes, ws1 = w1 + (long)s * sbBytes;
            var xs = x0 + (long)s * sbCols;
            for (var k = 0; k < quads; k++)
            {
                var xk = xs + 64 * k;
                c0 += Dot(TQ.Load(ws0, k, 0), xk);
                c1 += Dot(TQ.Load(ws0, k, 1), xk + 16);
                c2 += Dot(TQ.Load(ws0, k, 2), xk + 32);
                c3 += Dot(TQ.Load(ws0, k, 3), xk + 48);
                e0 += Dot(TQ.Load(ws1, k, 0), xk);
                e1 += Dot(TQ.Load(ws1, k, 1), xk + 16);
                e2 += Dot(TQ.Load(ws1, k, 2), xk + 32);
                e3 += Dot(TQ.Load(ws1, k, 3), xk + 48);
            }
            var so = (long)s * scBytes;
            var uo = (long)s * TQ.SubBytes;
            var mo = m0 + s * QuantLayout.Lanes;
            f0 = Scale<TQ>(PairSum(c0, c1), s0 + so, u0 + uo, false, mo, f0);
            g0 = Scale<TQ>(PairSum(c2, c3), s0 + so, u0 + uo, true, mo, g0);
            f1 = Scale<TQ>(PairSum(e0, e1), s1 + so, u1 + uo, false, mo, f1);
            g1 = Scale<TQ>(PairSum(e2, e3), s1 + so, u1 + uo, true, mo, g1);
        }
        var y = a.Y + (long)t * a.OutF + o;
        var xscale = a.XScale[t];
        y[0] = Vector256.Sum(f0 + g0) * xscale * a.RowFactor[o];
        if (count == 2) y[1] = Vector256.Sum(f1 + g1) * xscale * a.RowFactor[o + 1];
    }
}

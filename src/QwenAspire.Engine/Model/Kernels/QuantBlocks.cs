using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// AVX-512BW int16 tiles of <see cref="QuantGemv"/> for CPUs without AVX512-VNNI: int16-widened weights
/// <c>vpmaddwd</c> int16 activations, a quad half's groups in lane pairs (groups 0–7 in one accumulator, 8–15 in
/// another, <see cref="QuantLayout"/>), added pairwise once per super-block so group j's sum sits in lane j; then one
/// convert and one FMA by the 16 group scales. Two weight rows share each activation load and each widened weight
/// serves two activation rows, so memory sees the weight once per call whatever the row count.
/// </summary>
internal static unsafe class QuantBlocks
{
    /// <summary>
    /// Software prefetch of the next weight rows while these stream (QWENASPIRE_QUANT_PREFETCH=0 turns it off, for
    /// A/B runs): an int8 row of 2048 weights is half a 4 KB page and hardware prefetchers stop at page boundaries.
    /// </summary>
    private static readonly bool Prefetch = Environment.GetEnvironmentVariable("QWENASPIRE_QUANT_PREFETCH") != "0" && Sse.IsSupported;

    private static readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

    public static void Run<TQ>(in QuantGemvArgs a, int o0, int o1) where TQ : struct, IQuantFormat
    {
        var o = o0;
        for (; o + 2 <= o1; o += 2)
        {
            var t = 0;
            for (; t + 2 <= a.Rows; t += 2) Tile2x2<TQ>(a, o, t);
            if (t < a.Rows) Tile2x1<TQ>(a, o, t);
        }
        for (; o < o1; o++)
        {
            for (var t = 0; t < a.Rows; t++) Tile1x1<TQ>(a, o, t);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<short> w0, Vector512<short> w1, short* x) =>
        Avx512BW.MultiplyAddAdjacent(w0, Vector512.Load(x)) + Avx512BW.MultiplyAddAdjacent(w1, Vector512.Load(x + 64));

    /// <summary>Lane j = group j: lanes 2j, 2j+1 of <paramref name="lo"/> (groups 0–7) or of <paramref name="hi"/> (8–15) added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> PairSum(Vector512<int> lo, Vector512<int> hi) =>
        Avx512F.PermuteVar16x32x2(lo, Even, hi) + Avx512F.PermuteVar16x32x2(lo, Odd, hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scale<TQ>(Vector512<int> lo, Vector512<int> hi, Vector512<float> mul, Vector512<float> min, float* sums, Vector512<float> f)
        where TQ : struct, IQuantFormat
    {
        f = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(PairSum(lo, hi)), mul, f);
        if (TQ.Int4) f = Vector512.FusedMultiplyAdd(-min, Vector512.Load(sums), f);
        return f;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x2<TQ>(in QuantGemvArgs a, int o, int t) where TQ : struct, IQuantFormat
    {
        var r = new QuantRowStart<TQ>(a, o);
        int sbBytes = r.SuperBlockBytes, scBytes = r.ScaleBytes, sbCols = r.SuperBlockColumns, chunks = r.Chunks;
        var chunkBytes = sbBytes / chunks;
        byte* w0 = r.W, w1 = w0 + a.RowBytes;
        byte* s0 = r.S, s1 = s0 + a.ScaleRowBytes;
        byte* u0 = r.Sub, u1 = u0 + a.SubRowBytes;
        short* x0 = a.X + (long)t * a.Padded, x1 = x0 + a.Padded;
        float* m0 = a.Sums + (long)t * a.Groups, m1 = m0 + a.Groups;
        Vector512<float> f00 = default, f10 = default, f01 = default, f11 = default;
        for (var s = 0; s < a.SuperBlocks; s++)
        {
            Vector512<int> c00 = default, d00 = default, c10 = default, d10 = default, c01 = default, d01 = default, c11 = default, d11 = default;
            var wo = (long)s * sbBytes;
            short* xs0 = x0 + (long)s * sbCols, xs1 = x1 + (long)s * sbCols;
            var next = w0 + 2 * a.RowBytes + wo;
            for (var m = 0; m < chunks; m++)
            {
                // The first pair of activation rows fetches the next weight rows; later pairs find these in L1.
                if (Prefetch && t == 0)
                {
                    Sse.Prefetch1(next + m * chunkBytes);
                    Sse.Prefetch1(next + a.RowBytes + m * chunkBytes);
                }
                var xo = 128 * m;
                TQ.Load(w0 + wo, m, out var p0, out var q0, out var p1, out var q1);
                c00 += Dot(p0, p1, xs0 + xo);
                d00 += Dot(q0, q1, xs0 + xo + 32);
                c01 += Dot(p0, p1, xs1 + xo);
                d01 += Dot(q0, q1, xs1 + xo + 32);
                TQ.Load(w1 + wo, m, out p0, out q0, out p1, out q1);
                c10 += Dot(p0, p1, xs0 + xo);
                d10 += Dot(q0, q1, xs0 + xo + 32);
                c11 += Dot(p0, p1, xs1 + xo);
                d11 += Dot(q0, q1, xs1 + xo + 32);
            }
            var so = (long)s * scBytes;
            var uo = (long)s * TQ.SubBytes;
            var mo = s * QuantLayout.Lanes;
            TQ.Scales(s0 + so, u0 + uo, out var mul, out var min);
            f00 = Scale<TQ>(c00, d00, mul, min, m0 + mo, f00);
            f01 = Scale<TQ>(c01, d01, mul, min, m1 + mo, f01);
            TQ.Scales(s1 + so, u1 + uo, out mul, out min);
            f10 = Scale<TQ>(c10, d10, mul, min, m0 + mo, f10);
            f11 = Scale<TQ>(c11, d11, mul, min, m1 + mo, f11);
        }
        Store(a, o, t, Vector512.Sum(f00), Vector512.Sum(f10));
        Store(a, o, t + 1, Vector512.Sum(f01), Vector512.Sum(f11));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x1<TQ>(in QuantGemvArgs a, int o, int t) where TQ : struct, IQuantFormat
    {
        var r = new QuantRowStart<TQ>(a, o);
        int sbBytes = r.SuperBlockBytes, scBytes = r.ScaleBytes, sbCols = r.SuperBlockColumns, chunks = r.Chunks;
        var chunkBytes = sbBytes / chunks;
        byte* w0 = r.W, w1 = w0 + a.RowBytes;
        byte* s0 = r.S, s1 = s0 + a.ScaleRowBytes;
        byte* u0 = r.Sub, u1 = u0 + a.SubRowBytes;
        var x0 = a.X + (long)t * a.Padded;
        var m0 = a.Sums + (long)t * a.Groups;
        Vector512<float> f0 = default, f1 = default;
        for (var s = 0; s < a.SuperBlocks; s++)
        {
            Vector512<int> c0 = default, d0 = default, c1 = default, d1 = default;
            var wo = (long)s * sbBytes;
            var xs0 = x0 + (long)s * sbCols;
            var next = w0 + 2 * a.RowBytes + wo;
            for (var m = 0; m < chunks; m++)
            {
                if (Prefetch && t == 0)
                {
                    Sse.Prefetch1(next + m * chunkBytes);
                    Sse.Prefetch1(next + a.RowBytes + m * chunkBytes);
                }
                var xo = 128 * m;
                TQ.Load(w0 + wo, m, out var p0, out var q0, out var p1, out var q1);
                c0 += Dot(p0, p1, xs0 + xo);
                d0 += Dot(q0, q1, xs0 + xo + 32);
                TQ.Load(w1 + wo, m, out p0, out q0, out p1, out q1);
                c1 += Dot(p0, p1, xs0 + xo);
                d1 += Dot(q0, q1, xs0 + xo + 32);
            }
            var so = (long)s * scBytes;
            var uo = (long)s * TQ.SubBytes;
            var mo = m0 + s * QuantLayout.Lanes;
            TQ.Scales(s0 + so, u0 + uo, out var mul, out var min);
            f0 = Scale<TQ>(c0, d0, mul, min, mo, f0);
            TQ.Scales(s1 + so, u1 + uo, out mul, out min);
            f1 = Scale<TQ>(c1, d1, mul, min, mo, f1);
        }
        Store(a, o, t, Vector512.Sum(f0), Vector512.Sum(f1));
    }

    private static void Tile1x1<TQ>(in QuantGemvArgs a, int o, int t) where TQ : struct, IQuantFormat
    {
        var r = new QuantRowStart<TQ>(a, o);
        int sbBytes = r.SuperBlockBytes, scBytes = r.ScaleBytes, sbCols = r.SuperBlockColumns, chunks = r.Chunks;
        byte* w0 = r.W, s0 = r.S, u0 = r.Sub;
        var x0 = a.X + (long)t * a.Padded;
        var m0 = a.Sums + (long)t * a.Groups;
        Vector512<float> f = default;
        for (var s = 0; s < a.SuperBlocks; s++)
        {
            Vector512<int> c = default, d = default;
            var xs0 = x0 + (long)s * sbCols;
            for (var m = 0; m < chunks; m++)
            {
                TQ.Load(w0 + (long)s * sbBytes, m, out var p0, out var q0, out var p1, out var q1);
                c += Dot(p0, p1, xs0 + 128 * m);
                d += Dot(q0, q1, xs0 + 128 * m + 32);
            }
            TQ.Scales(s0 + (long)s * scBytes, u0 + (long)s * TQ.SubBytes, out var mul, out var min);
            f = Scale<TQ>(c, d, mul, min, m0 + s * QuantLayout.Lanes, f);
        }
        a.Y[(long)t * a.OutF + o] = Vector512.Sum(f) * a.XScale[t] * a.RowFactor[o];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in QuantGemvArgs a, int o, int t, float v0, float v1)
    {
        var y = a.Y + (long)t * a.OutF + o;
        var xs = a.XScale[t];
        y[0] = v0 * xs * a.RowFactor[o];
        y[1] = v1 * xs * a.RowFactor[o + 1];
    }
}

/// <summary>Where output row <c>o</c>'s packed weights, scales and sub-scales start, and the super-block geometry of the format.</summary>
internal readonly unsafe struct QuantRowStart<TQ> where TQ : struct, IQuantFormat
{
    public readonly byte* W;
    public readonly byte* S;
    public readonly byte* Sub;
    public readonly int SuperBlockBytes;
    public readonly int ScaleBytes;
    public readonly int SuperBlockColumns;
    /// <summary>Two-quad (128-column) chunks per super-block.</summary>
    public readonly int Chunks;

    public QuantRowStart(in QuantGemvArgs a, int o)
    {
        W = a.W + o * a.RowBytes;
        S = a.S + o * a.ScaleRowBytes;
        Sub = a.Sub + o * a.SubRowBytes;
        SuperBlockBytes = TQ.SuperBlockBytes(a.Group);
        ScaleBytes = TQ.ScaleBytes(a.Group);
        SuperBlockColumns = QuantLayout.SuperBlock(a.Group);
        Chunks = a.Group / 8;
    }
}

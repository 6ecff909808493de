using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// AVX-512BW tiles of <see cref="QuantGemv"/>: int16-widened weights <c>vpmaddwd</c> int16 activations, group j's
/// sum in int32 lane j for a whole super-block (<see cref="QuantLayout"/>), then one convert and one FMA by the
/// 16 group scales per super-block. Four weight rows share each activation load and each widened weight step
/// serves two activation rows, so memory sees the weight once per call whatever the row count.
/// </summary>
internal static unsafe class QuantBlocks
{
    /// <summary>
    /// Software prefetch of the next four weight rows while these stream (QWENASPIRE_QUANT_PREFETCH=0 turns it off, for
    /// A/B runs): an int8 row of 2048 weights is half a 4 KB page and hardware prefetchers stop at page boundaries.
    /// </summary>
    private static readonly bool Prefetch = Environment.GetEnvironmentVariable("QWENASPIRE_QUANT_PREFETCH") != "0" && Sse.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRows(byte* next, long rowBytes)
    {
        Sse.Prefetch1(next);
        Sse.Prefetch1(next + rowBytes);
        Sse.Prefetch1(next + 2 * rowBytes);
        Sse.Prefetch1(next + 3 * rowBytes);
    }

    public static void Run<TQ>(in QuantGemvArgs a, int o0, int o1) where TQ : struct, IQuantFormat
    {
        var o = o0;
        for (; o + 4 <= o1; o += 4)
        {
            var t = 0;
            for (; t + 2 <= a.Rows; t += 2) Tile4x2<TQ>(a, o, t);
            if (t < a.Rows) Tile4x1<TQ>(a, o, t);
        }
        for (; o < o1; o++)
        {
            for (var t = 0; t < a.Rows; t++) Tile1x1<TQ>(a, o, t);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<short> a, Vector512<short> b, Vector512<short> xa, Vector512<short> xb) =>
        Avx512BW.MultiplyAddAdjacent(a, xa) + Avx512BW.MultiplyAddAdjacent(b, xb);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scale<TQ>(Vector512<int> acc, Vector512<float> mul, Vector512<float> min, float* sums, Vector512<float> f)
        where TQ : struct, IQuantFormat
    {
        f = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(acc), mul, f);
        if (TQ.Int4) f = Vector512.FusedMultiplyAdd(-min, Vector512.Load(sums), f);
        return f;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2<TQ>(in QuantGemvArgs a, int o, int t) where TQ : struct, IQuantFormat
    {
        var r = new QuantRowStart<TQ>(a, o);
        int sbBytes = r.SuperBlockBytes, scBytes = r.ScaleBytes, sbCols = r.SuperBlockColumns, chunks = r.Chunks;
        var chunkBytes = sbBytes / chunks;
        byte* w0 = r.W, w1 = w0 + a.RowBytes, w2 = w1 + a.RowBytes, w3 = w2 + a.RowBytes;
        byte* s0 = r.S, s1 = s0 + a.ScaleRowBytes, s2 = s1 + a.ScaleRowBytes, s3 = s2 + a.ScaleRowBytes;
        byte* u0 = r.Sub, u1 = u0 + a.SubRowBytes, u2 = u1 + a.SubRowBytes, u3 = u2 + a.SubRowBytes;
        short* x0 = a.X + (long)t * a.Padded, x1 = x0 + a.Padded;
        float* m0 = a.Sums + (long)t * a.Groups, m1 = m0 + a.Groups;
        Vector512<float> f00 = default, f10 = default, f20 = default, f30 = default, f01 = default, f11 = default, f21 = default, f31 = default;
        for (var s = 0; s < a.SuperBlocks; s++)
        {
            Vector512<int> c00 = default, c10 = default, c20 = default, c30 = default, c01 = default, c11 = default, c21 = default, c31 = default;
            var wo = (long)s * sbBytes;
            short* xs0 = x0 + (long)s * sbCols, xs1 = x1 + (long)s * sbCols;
            var next = w0 + 4 * a.RowBytes + wo;
            for (var m = 0; m < chunks; m++)
            {
                // The first pair of activation rows fetches the next weight rows; later pairs find these in L1.
                if (Prefetch && t == 0) PrefetchRows(next + m * chunkBytes, a.RowBytes);
                var xa0 = Vector512.Load(xs0 + 64 * m);
                var xb0 = Vector512.Load(xs0 + 64 * m + 32);
                var xa1 = Vector512.Load(xs1 + 64 * m);
                var xb1 = Vector512.Load(xs1 + 64 * m + 32);
                TQ.Load(w0 + wo, m, out var p, out var q);
                c00 += Dot(p, q, xa0, xb0);
                c01 += Dot(p, q, xa1, xb1);
                TQ.Load(w1 + wo, m, out p, out q);
                c10 += Dot(p, q, xa0, xb0);
                c11 += Dot(p, q, xa1, xb1);
                TQ.Load(w2 + wo, m, out p, out q);
                c20 += Dot(p, q, xa0, xb0);
                c21 += Dot(p, q, xa1, xb1);
                TQ.Load(w3 + wo, m, out p, out q);
                c30 += Dot(p, q, xa0, xb0);
                c31 += Dot(p, q, xa1, xb1);
            }
            var so = (long)s * scBytes;
            var uo = (long)s * TQ.SubBytes;
            var mo = s * QuantLayout.Lanes;
            TQ.Scales(s0 + so, u0 + uo, out var mul, out var min);
            f00 = Scale<TQ>(c00, mul, min, m0 + mo, f00);
            f01 = Scale<TQ>(c01, mul, min, m1 + mo, f01);
            TQ.Scales(s1 + so, u1 + uo, out mul, out min);
            f10 = Scale<TQ>(c10, mul, min, m0 + mo, f10);
            f11 = Scale<TQ>(c11, mul, min, m1 + mo, f11);
            TQ.Scales(s2 + so, u2 + uo, out mul, out min);
            f20 = Scale<TQ>(c20, mul, min, m0 + mo, f20);
            f21 = Scale<TQ>(c21, mul, min, m1 + mo, f21);
            TQ.Scales(s3 + so, u3 + uo, out mul, out min);
            f30 = Scale<TQ>(c30, mul, min, m0 + mo, f30);
            f31 = Scale<TQ>(c31, mul, min, m1 + mo, f31);
        }
        Store(a, o, t, Vector512.Sum(f00), Vector512.Sum(f10), Vector512.Sum(f20), Vector512.Sum(f30));
        Store(a, o, t + 1, Vector512.Sum(f01), Vector512.Sum(f11), Vector512.Sum(f21), Vector512.Sum(f31));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1<TQ>(in QuantGemvArgs a, int o, int t) where TQ : struct, IQuantFormat
    {
        var r = new QuantRowStart<TQ>(a, o);
        int sbBytes = r.SuperBlockBytes, scBytes = r.ScaleBytes, sbCols = r.SuperBlockColumns, chunks = r.Chunks;
        var chunkBytes = sbBytes / chunks;
        byte* w0 = r.W, w1 = w0 + a.RowBytes, w2 = w1 + a.RowBytes, w3 = w2 + a.RowBytes;
        byte* s0 = r.S, s1 = s0 + a.ScaleRowBytes, s2 = s1 + a.ScaleRowBytes, s3 = s2 + a.ScaleRowBytes;
        byte* u0 = r.Sub, u1 = u0 + a.SubRowBytes, u2 = u1 + a.SubRowBytes, u3 = u2 + a.SubRowBytes;
        var x0 = a.X + (long)t * a.Padded;
        var m0 = a.Sums + (long)t * a.Groups;
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (var s = 0; s < a.SuperBlocks; s++)
        {
            Vector512<int> c0 = default, c1 = default, c2 = default, c3 = default;
            var wo = (long)s * sbBytes;
            var xs0 = x0 + (long)s * sbCols;
            var next = w0 + 4 * a.RowBytes + wo;
            for (var m = 0; m < chunks; m++)
            {
                if (Prefetch && t == 0) PrefetchRows(next + m * chunkBytes, a.RowBytes);
                var xa = Vector512.Load(xs0 + 64 * m);
                var xb = Vector512.Load(xs0 + 64 * m + 32);
                TQ.Load(w0 + wo, m, out var p, out var q);
                c0 += Dot(p, q, xa, xb);
                TQ.Load(w1 + wo, m, out p, out q);
                c1 += Dot(p, q, xa, xb);
                TQ.Load(w2 + wo, m, out p, out q);
                c2 += Dot(p, q, xa, xb);
                TQ.Load(w3 + wo, m, out p, out q);
                c3 += Dot(p, q, xa, xb);
            }
            var so = (long)s * scBytes;
            var uo = (long)s * TQ.SubBytes;
            var mo = m0 + s * QuantLayout.Lanes;
            TQ.Scales(s0 + so, u0 + uo, out var mul, out var min);
            f0 = Scale<TQ>(c0, mul, min, mo, f0);
            TQ.Scales(s1 + so, u1 + uo, out mul, out min);
            f1 = Scale<TQ>(c1, mul, min, mo, f1);
            TQ.Scales(s2 + so, u2 + uo, out mul, out min);
            f2 = Scale<TQ>(c2, mul, min, mo, f2);
            TQ.Scales(s3 + so, u3 + uo, out mul, out min);
            f3 = Scale<TQ>(c3, mul, min, mo, f3);
        }
        Store(a, o, t, Vector512.Sum(f0), Vector512.Sum(f1), Vector512.Sum(f2), Vector512.Sum(f3));
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
            Vector512<int> c = default;
            var xs0 = x0 + (long)s * sbCols;
            for (var m = 0; m < chunks; m++)
            {
                TQ.Load(w0 + (long)s * sbBytes, m, out var p, out var q);
                c += Dot(p, q, Vector512.Load(xs0 + 64 * m), Vector512.Load(xs0 + 64 * m + 32));
            }
            TQ.Scales(s0 + (long)s * scBytes, u0 + (long)s * TQ.SubBytes, out var mul, out var min);
            f = Scale<TQ>(c, mul, min, m0 + s * QuantLayout.Lanes, f);
        }
        a.Y[(long)t * a.OutF + o] = Vector512.Sum(f) * a.XScale[t] * a.RowFactor[o];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in QuantGemvArgs a, int o, int t, float v0, float v1, float v2, float v3)
    {
        var y = a.Y + (long)t * a.OutF + o;
        var xs = a.XScale[t];
        var rf = a.RowFactor + o;
        y[0] = v0 * xs * rf[0];
        y[1] = v1 * xs * rf[1];
        y[2] = v2 * xs * rf[2];
        y[3] = v3 * xs * rf[3];
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
    /// <summary>Two-step (64-column) chunks per super-block.</summary>
    public readonly int Chunks;

    public QuantRowStart(in QuantGemvArgs a, int o)
    {
        W = a.W + o * a.RowBytes;
        S = a.S + o * a.ScaleRowBytes;
        Sub = a.Sub + o * a.SubRowBytes;
        SuperBlockBytes = TQ.SuperBlockBytes(a.Group);
        ScaleBytes = TQ.ScaleBytes(a.Group);
        SuperBlockColumns = QuantLayout.SuperBlock(a.Group);
        Chunks = a.Group / 4;
    }
}

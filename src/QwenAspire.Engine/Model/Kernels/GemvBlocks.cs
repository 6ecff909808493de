using System.Runtime.CompilerServices;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// Register-blocked inner loops of <see cref="ReducedGemv"/>: <c>y[t, o] = Σ_i x[t, i] · W[o, i]</c> for a
/// range of output rows. Four weight rows are streamed together so each x load serves four FMAs, and x rows
/// are taken two at a time so a weight block read from memory once serves every row (it stays in L1).
/// </summary>
internal static unsafe class GemvBlocks
{
    /// <summary>
    /// Software prefetch of the next four weight rows while the current four stream (QWENASPIRE_GEMV_PREFETCH=0 turns
    /// it off, for A/B runs): a 2048-wide bf16 row is one 4 KB page, and hardware prefetchers stop at page
    /// boundaries, so without it every block of rows starts with cold misses.
    /// </summary>
    private static readonly bool Prefetch = Environment.GetEnvironmentVariable("QWENASPIRE_GEMV_PREFETCH") != "0" && System.Runtime.Intrinsics.X86.Sse.IsSupported;

    /// <summary>x (rows, n) f32, w (outF, n) 16-bit, y (rows, outF) f32; fills columns [o0, o1) of y.</summary>
    public static void Run<TL, TV, TF>(float* x, int rows, ushort* w, int n, int outF, float* y, int o0, int o1)
        where TL : struct, IVectorLanes<TV> where TV : struct where TF : struct, IWeightFormat
    {
        var o = o0;
        for (; o + 4 <= o1; o += 4)
        {
            var wo = w + (long)o * n;
            var t = 0;
            // 512-bit lanes have registers for 4 x rows (16 accumulators): each widened weight vector serves 4 FMAs.
            if (TL.Count == 16)
            {
                for (; t + 4 <= rows; t += 4) Block4x4<TL, TV, TF>(wo, n, x + (long)t * n, y + (long)t * outF + o, outF);
            }
            for (; t + 2 <= rows; t += 2) Block4x2<TL, TV, TF>(wo, n, x + (long)t * n, y + (long)t * outF + o, outF);
            if (t < rows) Block4x1<TL, TV, TF>(wo, n, x + (long)t * n, y + (long)t * outF + o);
        }
        for (; o < o1; o++)
        {
            for (var t = 0; t < rows; t++) y[(long)t * outF + o] = Dot<TL, TV, TF>(w + (long)o * n, x + (long)t * n, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x1<TL, TV, TF>(ushort* w0, int n, float* x, float* y)
        where TL : struct, IVectorLanes<TV> where TV : struct where TF : struct, IWeightFormat
    {
        ushort* w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero, a4 = TL.Zero, a5 = TL.Zero, a6 = TL.Zero, a7 = TL.Zero;
        var c = TL.Count;
        var i = 0;
        // The next block (rows 4-7 from w0, contiguous) advances 4 rows × 2 bytes per element of this one.
        var next = (byte*)(w0 + 4L * n);
        for (; i + 2 * c <= n; i += 2 * c)
        {
            if (Prefetch) PrefetchNext(next + 8L * i, c);
            var xl = TL.Load(x + i);
            var xh = TL.Load(x + i + c);
            TL.LoadWeights<TF>(w0 + i, out var l, out var h);
            a0 = TL.Fma(l, xl, a0);
            a1 = TL.Fma(h, xh, a1);
            TL.LoadWeights<TF>(w1 + i, out l, out h);
            a2 = TL.Fma(l, xl, a2);
            a3 = TL.Fma(h, xh, a3);
            TL.LoadWeights<TF>(w2 + i, out l, out h);
            a4 = TL.Fma(l, xl, a4);
            a5 = TL.Fma(h, xh, a5);
            TL.LoadWeights<TF>(w3 + i, out l, out h);
            a6 = TL.Fma(l, xl, a6);
            a7 = TL.Fma(h, xh, a7);
        }
        float s0 = TL.Sum(TL.Add(a0, a1)), s1 = TL.Sum(TL.Add(a2, a3)), s2 = TL.Sum(TL.Add(a4, a5)), s3 = TL.Sum(TL.Add(a6, a7));
        for (; i < n; i++)
        {
            var xi = x[i];
            s0 += TF.Widen(w0[i]) * xi;
            s1 += TF.Widen(w1[i]) * xi;
            s2 += TF.Widen(w2[i]) * xi;
            s3 += TF.Widen(w3[i]) * xi;
        }
        y[0] = s0;
        y[1] = s1;
        y[2] = s2;
        y[3] = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x2<TL, TV, TF>(ushort* w0, int n, float* x0, float* y0, int outF)
        where TL : struct, IVectorLanes<TV> where TV : struct where TF : struct, IWeightFormat
    {
        ushort* w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        var x1 = x0 + n;
        TV a00 = TL.Zero, a10 = TL.Zero, a20 = TL.Zero, a30 = TL.Zero, a01 = TL.Zero, a11 = TL.Zero, a21 = TL.Zero, a31 = TL.Zero;
        var c = TL.Count;
        var i = 0;
        var next = (byte*)(w0 + 4L * n);
        for (; i + 2 * c <= n; i += 2 * c)
        {
            if (Prefetch) PrefetchNext(next + 8L * i, c);
            var p = TL.Load(x0 + i);
            var q = TL.Load(x0 + i + c);
            var r = TL.Load(x1 + i);
            var s = TL.Load(x1 + i + c);
            TL.LoadWeights<TF>(w0 + i, out var l, out var h);
            a00 = TL.Fma(h, q, TL.Fma(l, p, a00));
            a01 = TL.Fma(h, s, TL.Fma(l, r, a01));
            TL.LoadWeights<TF>(w1 + i, out l, out h);
            a10 = TL.Fma(h, q, TL.Fma(l, p, a10));
            a11 = TL.Fma(h, s, TL.Fma(l, r, a11));
            TL.LoadWeights<TF>(w2 + i, out l, out h);
            a20 = TL.Fma(h, q, TL.Fma(l, p, a20));
            a21 = TL.Fma(h, s, TL.Fma(l, r, a21));
            TL.LoadWeights<TF>(w3 + i, out l, out h);
            a30 = TL.Fma(h, q, TL.Fma(l, p, a30));
            a31 = TL.Fma(h, s, TL.Fma(l, r, a31));
        }
        float s00 = TL.Sum(a00), s10 = TL.Sum(a10), s20 = TL.Sum(a20), s30 = TL.Sum(a30);
        float s01 = TL.Sum(a01), s11 = TL.Sum(a11), s21 = TL.Sum(a21), s31 = TL.Sum(a31);
        for (; i < n; i++)
        {
            float u = x0[i], v = x1[i];
            float v0 = TF.Widen(w0[i]), v1 = TF.Widen(w1[i]), v2 = TF.Widen(w2[i]), v3 = TF.Widen(w3[i]);
            s00 += v0 * u; s10 += v1 * u; s20 += v2 * u; s30 += v3 * u;
            s01 += v0 * v; s11 += v1 * v; s21 += v2 * v; s31 += v3 * v;
        }
        y0[0] = s00; y0[1] = s10; y0[2] = s20; y0[3] = s30;
        var y1 = y0 + outF;
        y1[0] = s01; y1[1] = s11; y1[2] = s21; y1[3] = s31;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x4<TL, TV, TF>(ushort* w0, int n, float* x0, float* y0, int outF)
        where TL : struct, IVectorLanes<TV> where TV : struct where TF : struct, IWeightFormat
    {
        ushort* w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        float* x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        TV a00 = TL.Zero, a10 = TL.Zero, a20 = TL.Zero, a30 = TL.Zero, a01 = TL.Zero, a11 = TL.Zero, a21 = TL.Zero, a31 = TL.Zero;
        TV a02 = TL.Zero, a12 = TL.Zero, a22 = TL.Zero, a32 = TL.Zero, a03 = TL.Zero, a13 = TL.Zero, a23 = TL.Zero, a33 = TL.Zero;
        var c = TL.Count;
        var i = 0;
        var next = (byte*)(w0 + 4L * n);
        for (; i + 2 * c <= n; i += 2 * c)
        {
            if (Prefetch) PrefetchNext(next + 8L * i, c);
            TV p0 = TL.Load(x0 + i), q0 = TL.Load(x0 + i + c), p1 = TL.Load(x1 + i), q1 = TL.Load(x1 + i + c);
            TV p2 = TL.Load(x2 + i), q2 = TL.Load(x2 + i + c), p3 = TL.Load(x3 + i), q3 = TL.Load(x3 + i + c);
            TL.LoadWeights<TF>(w0 + i, out var l, out var h);
            a00 = TL.Fma(h, q0, TL.Fma(l, p0, a00)); a01 = TL.Fma(h, q1, TL.Fma(l, p1, a01));
            a02 = TL.Fma(h, q2, TL.Fma(l, p2, a02)); a03 = TL.Fma(h, q3, TL.Fma(l, p3, a03));
            TL.LoadWeights<TF>(w1 + i, out l, out h);
            a10 = TL.Fma(h, q0, TL.Fma(l, p0, a10)); a11 = TL.Fma(h, q1, TL.Fma(l, p1, a11));
            a12 = TL.Fma(h, q2, TL.Fma(l, p2, a12)); a13 = TL.Fma(h, q3, TL.Fma(l, p3, a13));
            TL.LoadWeights<TF>(w2 + i, out l, out h);
            a20 = TL.Fma(h, q0, TL.Fma(l, p0, a20)); a21 = TL.Fma(h, q1, TL.Fma(l, p1, a21));
            a22 = TL.Fma(h, q2, TL.Fma(l, p2, a22)); a23 = TL.Fma(h, q3, TL.Fma(l, p3, a23));
            TL.LoadWeights<TF>(w3 + i, out l, out h);
            a30 = TL.Fma(h, q0, TL.Fma(l, p0, a30)); a31 = TL.Fma(h, q1, TL.Fma(l, p1, a31));
            a32 = TL.Fma(h, q2, TL.Fma(l, p2, a32)); a33 = TL.Fma(h, q3, TL.Fma(l, p3, a33));
        }
        Span<float> s = stackalloc float[16];
        s[0] = TL.Sum(a00); s[1] = TL.Sum(a10); s[2] = TL.Sum(a20); s[3] = TL.Sum(a30);
        s[4] = TL.Sum(a01); s[5] = TL.Sum(a11); s[6] = TL.Sum(a21); s[7] = TL.Sum(a31);
        s[8] = TL.Sum(a02); s[9] = TL.Sum(a12); s[10] = TL.Sum(a22); s[11] = TL.Sum(a32);
        s[12] = TL.Sum(a03); s[13] = TL.Sum(a13); s[14] = TL.Sum(a23); s[15] = TL.Sum(a33);
        for (; i < n; i++)
        {
            float v0 = TF.Widen(w0[i]), v1 = TF.Widen(w1[i]), v2 = TF.Widen(w2[i]), v3 = TF.Widen(w3[i]);
            for (var t = 0; t < 4; t++)
            {
                var u = x0[(long)t * n + i];
                s[4 * t] += v0 * u; s[4 * t + 1] += v1 * u; s[4 * t + 2] += v2 * u; s[4 * t + 3] += v3 * u;
            }
        }
        for (var t = 0; t < 4; t++)
        {
            var yt = y0 + (long)t * outF;
            yt[0] = s[4 * t]; yt[1] = s[4 * t + 1]; yt[2] = s[4 * t + 2]; yt[3] = s[4 * t + 3];
        }
    }

    /// <summary>
    /// Into L2: the 8·2c bytes of the next block matching one step over 2c elements of four rows. A prefetch past the
    /// weight's end is dropped by the CPU (prefetches never fault).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchNext(byte* p, int c)
    {
        System.Runtime.Intrinsics.X86.Sse.Prefetch1(p);
        System.Runtime.Intrinsics.X86.Sse.Prefetch1(p + 64);
        if (c < 16) return;
        System.Runtime.Intrinsics.X86.Sse.Prefetch1(p + 128);
        System.Runtime.Intrinsics.X86.Sse.Prefetch1(p + 192);
    }

    private static float Dot<TL, TV, TF>(ushort* w, float* x, int n)
        where TL : struct, IVectorLanes<TV> where TV : struct where TF : struct, IWeightFormat
    {
        TV a = TL.Zero, b = TL.Zero;
        var c = TL.Count;
        var i = 0;
        for (; i + 2 * c <= n; i += 2 * c)
        {
            TL.LoadWeights<TF>(w + i, out var l, out var h);
            a = TL.Fma(l, TL.Load(x + i), a);
            b = TL.Fma(h, TL.Load(x + i + c), b);
        }
        var sum = TL.Sum(TL.Add(a, b));
        for (; i < n; i++) sum += TF.Widen(w[i]) * x[i];
        return sum;
    }
}

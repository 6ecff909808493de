using System.Numerics;
using System.Runtime.CompilerServices;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>SIMD choice of <see cref="DecodeOps"/>: <see cref="Auto"/> takes <see cref="Vector{T}"/> when the JIT accelerates it.</summary>
internal enum DecodeOpsWidth
{
    Auto,
    Scalar,
    Vector,
}

/// <summary>
/// The element-wise parts of a decode step (RMSNorm, residual add + RMSNorm, per-head q/k norm + RoPE, SiLU·mul,
/// KV stores) on raw f32 rows, in place where the torch path allocates: a decode step's rows are a few KB, so
/// one call here replaces three to nine small libtorch ops, each costing more in dispatch than in arithmetic.
/// Vector paths use <see cref="Vector{T}"/> (AVX2 / AVX-512 / NEON as the JIT maps it); the scalar paths are
/// the reference. Arithmetic follows the torch path's order (<c>x · rsqrt(mean(x²) + eps) · w</c>), sums differ
/// only in association.
/// </summary>
internal static unsafe class DecodeOps
{
    public static DecodeOpsWidth Resolve(DecodeOpsWidth width) =>
        width != DecodeOpsWidth.Auto ? width : Vector.IsHardwareAccelerated ? DecodeOpsWidth.Vector : DecodeOpsWidth.Scalar;

    /// <summary>y[r] = x[r] · rsqrt(mean(x[r]²) + eps) · w for <paramref name="rows"/> rows of <paramref name="n"/>; y may be x.</summary>
    public static void RmsNorm(float* x, float* w, float* y, int rows, int n, float eps, DecodeOpsWidth width = DecodeOpsWidth.Auto)
    {
        var vector = Resolve(width) == DecodeOpsWidth.Vector;
        for (var r = 0; r < rows; r++)
        {
            float* xr = x + (long)r * n, yr = y + (long)r * n;
            var inv = 1f / MathF.Sqrt(SumOfSquares(xr, n, vector) / n + eps);
            Scale(xr, inv, w, yr, n, vector);
        }
    }

    /// <summary>h += a, then y = RmsNorm(h) (the residual add before the MLP's norm), per row.</summary>
    public static void AddRmsNorm(float* h, float* a, float* w, float* y, int rows, int n, float eps, DecodeOpsWidth width = DecodeOpsWidth.Auto)
    {
        Add(h, a, (long)rows * n, width);
        RmsNorm(h, w, y, rows, n, eps, width);
    }

    /// <summary>h += a over <paramref name="count"/> elements.</summary>
    public static void Add(float* h, float* a, long count, DecodeOpsWidth width = DecodeOpsWidth.Auto)
    {
        long i = 0;
        if (Resolve(width) == DecodeOpsWidth.Vector)
        {
            var c = Vector<float>.Count;
            for (; i + c <= count; i += c) (Vector.Load(h + i) + Vector.Load(a + i)).Store(h + i);
        }
        for (; i < count; i++) h[i] += a[i];
    }

    /// <summary>g = silu(g) · u = g / (1 + e^−g) · u over <paramref name="count"/> elements.</summary>
    public static void SiluMul(float* g, float* u, long count, DecodeOpsWidth width = DecodeOpsWidth.Auto)
    {
        long i = 0;
        if (Resolve(width) == DecodeOpsWidth.Vector)
        {
            var c = Vector<float>.Count;
            for (; i + c <= count; i += c)
            {
                var v = Vector.Load(g + i);
                (v / (Vector<float>.One + Vector.Exp(-v)) * Vector.Load(u + i)).Store(g + i);
            }
        }
        for (; i < count; i++) g[i] = g[i] / (1f + MathF.Exp(-g[i])) * u[i];
    }

    /// <summary>
    /// In place over x (rows, heads, d): each head RMS-normed with <paramref name="w"/> (d), then rotated in HF's
    /// rotate-half form with row r's tables <c>cos/sin[r · d/2 ..]</c>: (x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin).
    /// </summary>
    public static void HeadNormRope(float* x, int rows, int heads, int d, float* w, float* cos, float* sin, float eps, DecodeOpsWidth width = DecodeOpsWidth.Auto)
    {
        var vector = Resolve(width) == DecodeOpsWidth.Vector;
        var half = d / 2;
        for (var r = 0; r < rows; r++)
        {
            float* cr = cos + (long)r * half, sr = sin + (long)r * half;
            for (var h = 0; h < heads; h++)
            {
                var xh = x + ((long)r * heads + h) * d;
                var inv = 1f / MathF.Sqrt(SumOfSquares(xh, d, vector) / d + eps);
                Scale(xh, inv, w, xh, d, vector);
                Rotate(xh, xh + half, cr, sr, half, vector);
            }
        }
    }

    /// <summary>
    /// Stores rows of <paramref name="src"/> (rows, width) f32 into pool rows <paramref name="slots"/> of a
    /// (slots, width) f32 or bf16 pool; bf16 rounds to nearest even (as torch's f32 → bf16 conversion).
    /// </summary>
    public static void StoreRows(float* src, int rows, int width, int[] slots, void* pool, bool bf16)
    {
        for (var r = 0; r < rows; r++)
        {
            var s = src + (long)r * width;
            if (!bf16)
            {
                new ReadOnlySpan<float>(s, width).CopyTo(new Span<float>((float*)pool + (long)slots[r] * width, width));
                continue;
            }
            var d = (ushort*)pool + (long)slots[r] * width;
            for (var i = 0; i < width; i++) d[i] = ToBf16(s[i]);
        }
    }

    /// <summary>f32 → bf16 bits, round to nearest even; NaN stays a (quiet) NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort ToBf16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
    }

    private static float SumOfSquares(float* x, int n, bool vector)
    {
        var i = 0;
        float sum = 0;
        if (vector)
        {
            var c = Vector<float>.Count;
            var acc = Vector<float>.Zero;
            for (; i + c <= n; i += c)
            {
                var v = Vector.Load(x + i);
                acc += v * v;
            }
            sum = Vector.Sum(acc);
        }
        for (; i < n; i++) sum += x[i] * x[i];
        return sum;
    }

    private static void Scale(float* x, float inv, float* w, float* y, int n, bool vector)
    {
        var i = 0;
        if (vector)
        {
            var c = Vector<float>.Count;
            var s = new Vector<float>(inv);
            for (; i + c <= n; i += c) (Vector.Load(x + i) * s * Vector.Load(w + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] = x[i] * inv * w[i];
    }

    private static void Rotate(float* x1, float* x2, float* cos, float* sin, int half, bool vector)
    {
        var i = 0;
        if (vector)
        {
            var c = Vector<float>.Count;
            for (; i + c <= half; i += c)
            {
                Vector<float> a = Vector.Load(x1 + i), b = Vector.Load(x2 + i), co = Vector.Load(cos + i), si = Vector.Load(sin + i);
                (a * co - b * si).Store(x1 + i);
                (b * co + a * si).Store(x2 + i);
            }
        }
        for (; i < half; i++)
        {
            float a = x1[i], b = x2[i];
            x1[i] = a * cos[i] - b * sin[i];
            x2[i] = b * cos[i] + a * sin[i];
        }
    }
}

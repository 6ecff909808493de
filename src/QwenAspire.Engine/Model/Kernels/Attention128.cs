using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// One (sequence, kv head) task of <see cref="PagedAttentionKernel"/> for head_dim 128 on AVX-512 (Qwen3's): each
/// K and V row is widened once into eight registers and serves every query head of its group, and the q·k products
/// of 16 positions are added across lanes together by one transpose-sum instead of one horizontal sum per score.
/// </summary>
internal static unsafe class Attention128
{
    public const int HeadDim = 128;

    /// <summary>
    /// qh (group, 128) → oh (group, 128) over the <paramref name="context"/> K/V rows at <paramref name="offsets"/>
    /// (element offsets into the pools); <paramref name="scores"/> holds (group, context) floats of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Head<TK>(float* qh, float* oh, void* keys, void* values, long* offsets, int context, int group, float scale, float* scores)
        where TK : struct, IKvElement
    {
        // Per query head, 16 positions' unreduced products in transpose-sum order (position j at slot 4(j % 4) + j / 4).
        var partial = stackalloc float[group * 256];
        for (var c0 = 0; c0 < context; c0 += 16)
        {
            var n = Math.Min(16, context - c0);
            if (n < 16) new Span<float>(partial, group * 256).Clear();
            for (var j = 0; j < n; j++)
            {
                var k = offsets[c0 + j];
                var k0 = Lanes512Kv.LoadKv<TK>(keys, k);
                var k1 = Lanes512Kv.LoadKv<TK>(keys, k + 16);
                var k2 = Lanes512Kv.LoadKv<TK>(keys, k + 32);
                var k3 = Lanes512Kv.LoadKv<TK>(keys, k + 48);
                var k4 = Lanes512Kv.LoadKv<TK>(keys, k + 64);
                var k5 = Lanes512Kv.LoadKv<TK>(keys, k + 80);
                var k6 = Lanes512Kv.LoadKv<TK>(keys, k + 96);
                var k7 = Lanes512Kv.LoadKv<TK>(keys, k + 112);
                var slot = 4 * (j % 4) + j / 4;
                for (var g = 0; g < group; g++)
                {
                    var qg = qh + g * HeadDim;
                    var a0 = Vector512.Load(qg) * k0;
                    var a1 = Vector512.Load(qg + 16) * k1;
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(qg + 32), k2, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(qg + 48), k3, a1);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(qg + 64), k4, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(qg + 80), k5, a1);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(qg + 96), k6, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(qg + 112), k7, a1);
                    (a0 + a1).Store(partial + (g * 16 + slot) * 16);
                }
            }
            for (var g = 0; g < group; g++)
            {
                var sums = TransposeSum16(partial + g * 256) * scale; // lane j = position c0 + j
                var row = scores + g * context + c0;
                if (n == 16) sums.Store(row);
                else for (var j = 0; j < n; j++) row[j] = sums.GetElement(j);
            }
        }
        for (var g = 0; g < group; g++) PagedAttentionKernel.SoftmaxRow<Lanes512Kv, Vector512<float>>(scores + g * context, context);
        var h = 0;
        for (; h + 2 <= group; h += 2) Values2<TK>(scores + h * context, scores + (h + 1) * context, oh + h * HeadDim, oh + (h + 1) * HeadDim, values, offsets, context);
        if (h < group) Values2<TK>(scores + h * context, scores + h * context, oh + h * HeadDim, null, values, offsets, context);
    }

    /// <summary>o = Σ_c p[c] · V[c] for two query heads (the second's output null: one head), each V row widened once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Values2<TK>(float* p0, float* p1, float* o0, float* o1, void* values, long* offsets, int context) where TK : struct, IKvElement
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        for (var c = 0; c < context; c++)
        {
            var v = offsets[c];
            var x = Vector512.Create(p0[c]);
            var y = Vector512.Create(p1[c]);
            var v0 = Lanes512Kv.LoadKv<TK>(values, v);
            var v1 = Lanes512Kv.LoadKv<TK>(values, v + 16);
            var v2 = Lanes512Kv.LoadKv<TK>(values, v + 32);
            var v3 = Lanes512Kv.LoadKv<TK>(values, v + 48);
            a0 = Vector512.FusedMultiplyAdd(x, v0, a0);
            b0 = Vector512.FusedMultiplyAdd(y, v0, b0);
            a1 = Vector512.FusedMultiplyAdd(x, v1, a1);
            b1 = Vector512.FusedMultiplyAdd(y, v1, b1);
            a2 = Vector512.FusedMultiplyAdd(x, v2, a2);
            b2 = Vector512.FusedMultiplyAdd(y, v2, b2);
            a3 = Vector512.FusedMultiplyAdd(x, v3, a3);
            b3 = Vector512.FusedMultiplyAdd(y, v3, b3);
            var v4 = Lanes512Kv.LoadKv<TK>(values, v + 64);
            var v5 = Lanes512Kv.LoadKv<TK>(values, v + 80);
            var v6 = Lanes512Kv.LoadKv<TK>(values, v + 96);
            var v7 = Lanes512Kv.LoadKv<TK>(values, v + 112);
            a4 = Vector512.FusedMultiplyAdd(x, v4, a4);
            b4 = Vector512.FusedMultiplyAdd(y, v4, b4);
            a5 = Vector512.FusedMultiplyAdd(x, v5, a5);
            b5 = Vector512.FusedMultiplyAdd(y, v5, b5);
            a6 = Vector512.FusedMultiplyAdd(x, v6, a6);
            b6 = Vector512.FusedMultiplyAdd(y, v6, b6);
            a7 = Vector512.FusedMultiplyAdd(x, v7, a7);
            b7 = Vector512.FusedMultiplyAdd(y, v7, b7);
        }
        a0.Store(o0);
        a1.Store(o0 + 16);
        a2.Store(o0 + 32);
        a3.Store(o0 + 48);
        a4.Store(o0 + 64);
        a5.Store(o0 + 80);
        a6.Store(o0 + 96);
        a7.Store(o0 + 112);
        if (o1 == null) return;
        b0.Store(o1);
        b1.Store(o1 + 16);
        b2.Store(o1 + 32);
        b3.Store(o1 + 48);
        b4.Store(o1 + 64);
        b5.Store(o1 + 80);
        b6.Store(o1 + 96);
        b7.Store(o1 + 112);
    }

    /// <summary>
    /// 16 vectors at v (16 floats each) → lane 4t + r = the lane sum of vector 4r + t: halves, quarters, pairs,
    /// neighbours (vshuff32x4 / vshufps), each vector's lanes added in the same order whatever the others hold.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TransposeSum16(float* v)
    {
        var s = stackalloc Vector512<float>[8];
        for (var p = 0; p < 8; p++)
        {
            var a = Vector512.Load(v + 32 * p);
            var b = Vector512.Load(v + 32 * p + 16);
            s[p] = Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xee);
        }
        for (var p = 0; p < 4; p++) s[p] = Avx512F.Shuffle4x128(s[2 * p], s[2 * p + 1], 0x88) + Avx512F.Shuffle4x128(s[2 * p], s[2 * p + 1], 0xdd);
        for (var p = 0; p < 2; p++) s[p] = Avx512F.Shuffle(s[2 * p], s[2 * p + 1], 0x44) + Avx512F.Shuffle(s[2 * p], s[2 * p + 1], 0xee);
        return Avx512F.Shuffle(s[0], s[1], 0x88) + Avx512F.Shuffle(s[0], s[1], 0xdd);
    }
}

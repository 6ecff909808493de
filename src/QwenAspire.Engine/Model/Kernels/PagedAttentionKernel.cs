using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>SIMD width of <see cref="PagedAttentionKernel"/>; <see cref="Auto"/> takes the widest the CPU and head_dim allow.</summary>
internal enum AttentionWidth
{
    Auto,
    Scalar,
    V256,
    V512,
}

/// <summary>
/// One decode step's attention over the paged pool, for sequences with a single query row: per sequence and
/// kv head, the G query heads of the group dot every context slot (found through the block table), softmax,
/// and the probability-weighted sum of V. K/V are f32 or bf16 (widened exactly); accumulation is f32.
/// </summary>
/// <remarks>
/// Pointers: q (N, H, D) and output (N, H·D) f32 row-major; K and V the layer's pool (slots, KV, D).
/// Each (sequence, kv head) task reads its K and V once, so the kernel runs at memory bandwidth for long
/// contexts; tasks are independent and split over threads when there is enough work.
/// </remarks>
internal sealed unsafe class PagedAttentionKernel(
    float* q, float* output, void* keys, void* values, bool bf16,
    int heads, int kvHeads, int headDim, int blockSize, float scale,
    int[] rows, int[] contexts, int[][] tables) : IPartitionedWork
{
    private AttentionWidth _width;

    /// <summary>
    /// Below this many K/V elements read in total one thread does it all: a hand-off costs more. The GEMV workers
    /// are spinning right after the projections, so a hand-off costs a few µs and 64 K elements (a context of 32
    /// with 8 kv heads of 128) already take longer than that on one thread.
    /// </summary>
    private const long ParallelAbove = 1L << 16;

    /// <summary>head_dim 128 on AVX-512 through <see cref="Attention128"/> (QWENASPIRE_ATTENTION128=0 keeps the generic loop, for A/B runs).</summary>
    private static readonly bool s_head128 = Environment.GetEnvironmentVariable("QWENASPIRE_ATTENTION128") != "0";

    public static bool Supported { get; } = Vector512.IsHardwareAccelerated && Avx512F.IsSupported || Avx2.IsSupported && Fma.IsSupported;

    /// <summary>The width <see cref="AttentionWidth.Auto"/> resolves to for <paramref name="headDim"/>.</summary>
    public static AttentionWidth Widest(int headDim) =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported && headDim % 16 == 0 ? AttentionWidth.V512
        : Avx2.IsSupported && Fma.IsSupported && headDim % 8 == 0 ? AttentionWidth.V256
        : AttentionWidth.Scalar;

    /// <summary>
    /// Tensor form: q (N, H, D) f32 contiguous, output (N, H·D) f32 contiguous (only the decode rows are written),
    /// keys/values the layer's pool (slots, KV, D) f32 or bf16 contiguous, all on CPU.
    /// </summary>
    public static void Run(TorchSharp.torch.Tensor q, TorchSharp.torch.Tensor output, TorchSharp.torch.Tensor keys, TorchSharp.torch.Tensor values,
        int blockSize, int[] rows, int[] contexts, int[][] tables, AttentionWidth width, int threads)
    {
        var bf16 = keys.dtype == TorchSharp.torch.ScalarType.BFloat16;
        if (!q.is_contiguous() || !output.is_contiguous() || !keys.is_contiguous() || !values.is_contiguous() || keys.dtype != values.dtype
            || q.dtype != TorchSharp.torch.ScalarType.Float32 || output.dtype != TorchSharp.torch.ScalarType.Float32
            || !bf16 && keys.dtype != TorchSharp.torch.ScalarType.Float32 || q.dim() != 3 || keys.dim() != 3)
            throw new ArgumentException("PagedAttentionKernel needs contiguous f32 q (N, H, D) and output, and a contiguous f32/bf16 pool (slots, KV, D).");
        int heads = (int)q.shape[1], headDim = (int)q.shape[2], kvHeads = (int)keys.shape[1];
        fixed (byte* qp = q.bytes)
        fixed (byte* op = output.bytes)
        fixed (byte* kp = keys.bytes)
        fixed (byte* vp = values.bytes)
        {
            new PagedAttentionKernel((float*)qp, (float*)op, kp, vp, bf16, heads, kvHeads, headDim, blockSize, (float)(1.0 / Math.Sqrt(headDim)),
                rows, contexts, tables).Run(width, threads);
        }
    }

    /// <summary>Computes every sequence's output rows, on up to <paramref name="threads"/> threads.</summary>
    public void Run(AttentionWidth width, int threads)
    {
        if (width == AttentionWidth.Auto) width = Widest(headDim);
        if (width == AttentionWidth.V512 && headDim % 16 != 0 || width == AttentionWidth.V256 && headDim % 8 != 0)
            throw new ArgumentException($"head_dim {headDim} is not a multiple of the {width} lane count.", nameof(width));
        var tasks = rows.Length * kvHeads;
        long work = 0;
        foreach (var c in contexts) work += (long)c * kvHeads * headDim * 2;
        var parts = work < ParallelAbove ? 1 : Math.Clamp(threads, 1, tasks);
        if (parts == 1)
        {
            RunTasks(0, tasks, width);
            return;
        }
        // On the GEMV workers, which are spinning right after the projections: a second pool would wait for their core.
        _width = width;
        PartitionedWork.Run(this, parts);
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of the (sequence, kv head) tasks, at the width <see cref="Run(AttentionWidth, int)"/> resolved.</summary>
    public void Execute(int part, int parts)
    {
        var tasks = rows.Length * kvHeads;
        RunTasks((int)((long)tasks * part / parts), (int)((long)tasks * (part + 1) / parts), _width);
    }

    private void RunTasks(int from, int to, AttentionWidth width)
    {
        var maxContext = 0;
        foreach (var c in contexts) maxContext = Math.Max(maxContext, c);
        var group = heads / kvHeads;
        var scores = ArrayPool<float>.Shared.Rent(group * maxContext);
        var offsets = ArrayPool<long>.Shared.Rent(maxContext);
        try
        {
            fixed (float* p = scores)
            fixed (long* o = offsets)
            {
                for (var task = from; task < to; task++)
                {
                    int s = task / kvHeads, h = task % kvHeads;
                    switch (width)
                    {
                        case AttentionWidth.V512 when bf16: Head<Lanes512Kv, Vector512<float>, Bf16Kv>(s, h, p, o); break;
                        case AttentionWidth.V512: Head<Lanes512Kv, Vector512<float>, F32Kv>(s, h, p, o); break;
                        case AttentionWidth.V256 when bf16: Head<Lanes256Kv, Vector256<float>, Bf16Kv>(s, h, p, o); break;
                        case AttentionWidth.V256: Head<Lanes256Kv, Vector256<float>, F32Kv>(s, h, p, o); break;
                        default: HeadScalar(s, h, p); break;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scores);
            ArrayPool<long>.Shared.Return(offsets);
        }
    }

    private long KvOffset(int s, int pos, int h)
    {
        var slot = (long)tables[s][pos / blockSize] * blockSize + pos % blockSize;
        return (slot * kvHeads + h) * headDim;
    }

    /// <summary>Reference: plain loops (sums in another order than the SIMD lanes, so the two agree to rounding).</summary>
    private void HeadScalar(int s, int h, float* scores)
    {
        int group = heads / kvHeads, context = contexts[s];
        var qh = q + ((long)rows[s] * heads + (long)h * group) * headDim;
        var oh = output + ((long)rows[s] * heads + (long)h * group) * headDim;
        for (var c = 0; c < context; c++)
        {
            var k = KvOffset(s, c, h);
            for (var g = 0; g < group; g++)
            {
                float dot = 0;
                for (var i = 0; i < headDim; i++) dot += qh[g * headDim + i] * Kv(keys, k + i);
                scores[g * context + c] = dot * scale;
            }
        }
        Softmax(scores, group, context);
        new Span<float>(oh, group * headDim).Clear();
        for (var c = 0; c < context; c++)
        {
            var v = KvOffset(s, c, h);
            for (var g = 0; g < group; g++)
            {
                var p = scores[g * context + c];
                for (var i = 0; i < headDim; i++) oh[g * headDim + i] += p * Kv(values, v + i);
            }
        }
    }

    private float Kv(void* pool, long i) => bf16 ? BitConverter.UInt32BitsToSingle((uint)((ushort*)pool)[i] << 16) : ((float*)pool)[i];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Head<TL, TV, TK>(int s, int h, float* scores, long* offsets)
        where TL : struct, IAttentionLanes<TV> where TV : struct where TK : struct, IKvElement
    {
        int group = heads / kvHeads, context = contexts[s], lanes = TL.Count;
        var qh = q + ((long)rows[s] * heads + (long)h * group) * headDim;
        var oh = output + ((long)rows[s] * heads + (long)h * group) * headDim;
        for (var c = 0; c < context; c++) offsets[c] = KvOffset(s, c, h);
        if (typeof(TL) == typeof(Lanes512Kv) && headDim == Attention128.HeadDim && s_head128)
        {
            Attention128.Head<TK>(qh, oh, keys, values, offsets, context, group, scale, scores);
            return;
        }
        for (var c = 0; c < context; c++)
        {
            var k = offsets[c];
            for (var g = 0; g < group; g++)
            {
                var qg = qh + g * headDim;
                TV a0 = TL.Zero, a1 = TL.Zero;
                var i = 0;
                for (; i + 2 * lanes <= headDim; i += 2 * lanes)
                {
                    a0 = TL.Fma(TL.Load(qg + i), TL.LoadKv<TK>(keys, k + i), a0);
                    a1 = TL.Fma(TL.Load(qg + i + lanes), TL.LoadKv<TK>(keys, k + i + lanes), a1);
                }
                if (i < headDim) a0 = TL.Fma(TL.Load(qg + i), TL.LoadKv<TK>(keys, k + i), a0);
                scores[g * context + c] = TL.Sum(TL.Add(a0, a1)) * scale;
            }
        }
        for (var g = 0; g < group; g++) SoftmaxRow<TL, TV>(scores + g * context, context);
        // out[g] = Σ_c p[g, c] · V[c], four vectors of head_dim at a time held in registers across all c; each
        // chunk touches its own cache lines of the V rows, so V still comes from memory once per group.
        for (var g = 0; g < group; g++)
        {
            var pg = scores + g * context;
            var og = oh + g * headDim;
            var i = 0;
            for (; i + 4 * lanes <= headDim; i += 4 * lanes)
            {
                TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
                for (var c = 0; c < context; c++)
                {
                    var p = TL.Broadcast(pg[c]);
                    var v = offsets[c] + i;
                    a0 = TL.Fma(p, TL.LoadKv<TK>(values, v), a0);
                    a1 = TL.Fma(p, TL.LoadKv<TK>(values, v + lanes), a1);
                    a2 = TL.Fma(p, TL.LoadKv<TK>(values, v + 2 * lanes), a2);
                    a3 = TL.Fma(p, TL.LoadKv<TK>(values, v + 3 * lanes), a3);
                }
                TL.Store(og + i, a0);
                TL.Store(og + i + lanes, a1);
                TL.Store(og + i + 2 * lanes, a2);
                TL.Store(og + i + 3 * lanes, a3);
            }
            for (; i < headDim; i += lanes)
            {
                var a0 = TL.Zero;
                for (var c = 0; c < context; c++) a0 = TL.Fma(TL.Broadcast(pg[c]), TL.LoadKv<TK>(values, offsets[c] + i), a0);
                TL.Store(og + i, a0);
            }
        }
    }

    /// <summary>Softmax of one row of scores in place, vectorized (exp to the lanes' accuracy), scalar tail.</summary>
    internal static void SoftmaxRow<TL, TV>(float* row, int context) where TL : struct, IAttentionLanes<TV> where TV : struct
    {
        var lanes = TL.Count;
        var c = 0;
        var max = float.NegativeInfinity;
        if (context >= lanes)
        {
            var m = TL.Load(row);
            for (c = lanes; c + lanes <= context; c += lanes) m = TL.Max(m, TL.Load(row + c));
            max = TL.MaxAcross(m);
        }
        for (; c < context; c++) max = Math.Max(max, row[c]);
        var shift = TL.Broadcast(-max);
        var sumV = TL.Zero;
        float sum = 0;
        for (c = 0; c + lanes <= context; c += lanes)
        {
            var e = TL.Exp(TL.Add(TL.Load(row + c), shift));
            TL.Store(row + c, e);
            sumV = TL.Add(sumV, e);
        }
        for (; c < context; c++)
        {
            row[c] = MathF.Exp(row[c] - max);
            sum += row[c];
        }
        sum += TL.Sum(sumV);
        var inv = 1f / sum;
        var invV = TL.Broadcast(inv);
        for (c = 0; c + lanes <= context; c += lanes) TL.Store(row + c, TL.Multiply(TL.Load(row + c), invV));
        for (; c < context; c++) row[c] *= inv;
    }

    /// <summary>Row-wise softmax of (group, context) scores in place.</summary>
    private static void Softmax(float* scores, int group, int context)
    {
        for (var g = 0; g < group; g++)
        {
            var row = scores + g * context;
            var max = float.NegativeInfinity;
            for (var c = 0; c < context; c++) max = Math.Max(max, row[c]);
            float sum = 0;
            for (var c = 0; c < context; c++)
            {
                row[c] = MathF.Exp(row[c] - max);
                sum += row[c];
            }
            var inv = 1f / sum;
            for (var c = 0; c < context; c++) row[c] *= inv;
        }
    }
}

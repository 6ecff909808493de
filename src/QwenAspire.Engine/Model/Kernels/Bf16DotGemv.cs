using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using QwenAspire.Engine.Model.Kernels.Native;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// <c>y = x Wᵀ</c> against bf16 weights with AVX512-BF16 (scripts/gen-bf16-dot.py, assembled into Native/Bf16DotCode.g.cs): activations are rounded to
/// bf16 once per call (as llama.cpp and libtorch's bf16 linear do) and each instruction takes 32 products with
/// f32 accumulation, twice the multiply rate of widening the weights to f32 and no widening at all. Batched
/// decode is compute-bound on the widened path (8 rows: 16 f32 FMAs per weight vector), which is why this
/// exists. A row's result is the same whatever the other rows of its step (no batch dependence).
/// </summary>
internal static unsafe class Bf16DotGemv
{
    private static readonly bool s_wanted = Environment.GetEnvironmentVariable("QWENASPIRE_BF16_DOT") != "0" && CpuFeatures.Avx512Bf16;
    // One micro-kernel per activation rows of a block (1, 2, 3–4): the same bits per row whichever runs it.
    private static readonly delegate* unmanaged[SuppressGCTransition]<Args*, void> s_kernel1 = Load(Bf16DotCode.Rows1);
    private static readonly delegate* unmanaged[SuppressGCTransition]<Args*, void> s_kernel2 = Load(Bf16DotCode.Rows2);
    private static readonly delegate* unmanaged[SuppressGCTransition]<Args*, void> s_kernel = Load(Bf16DotCode.Rows4);

    [ThreadStatic]
    private static PackBuffer? t_pack;

    /// <summary>The CPU has AVX512-BF16 and its kernel loaded (QWENASPIRE_BF16_DOT=0 turns it off, for A/B runs).</summary>
    public static bool Available => s_kernel != null && s_kernel1 != null && s_kernel2 != null;

    private static delegate* unmanaged[SuppressGCTransition]<Args*, void> Load(ReadOnlySpan<byte> code) =>
        s_wanted ? (delegate* unmanaged[SuppressGCTransition]<Args*, void>)ExecutableCode.TryLoad(code) : null;

    /// <summary>Whether this path takes a (outF, inF) bf16 weight: whole 32-element steps and 4-row output blocks.</summary>
    public static bool Accepts(int outF, int inF) => Available && inF > 0 && inF % 32 == 0 && outF % 4 == 0;

    /// <summary>ushorts of the packed activations for <paramref name="rows"/> rows of <paramref name="n"/>.</summary>
    public static long PackedLength(int rows, int n) => (long)((rows + 3) / 4) * 4 * n;

    /// <summary>
    /// x (rows, n) f32 → bf16 (round to nearest even) in the kernel's order: per block of four rows, per
    /// 32-element step, the four rows' 32 values (absent rows of the last block zero).
    /// </summary>
    public static void Pack(float* x, int rows, int n, ushort* packed)
    {
        var steps = n / 32;
        for (var b = 0; b < (rows + 3) / 4; b++)
        {
            for (var s = 0; s < steps; s++)
            {
                for (var t = 0; t < 4; t++)
                {
                    var dst = packed + (((long)b * steps + s) * 4 + t) * 32;
                    var row = 4 * b + t;
                    if (row >= rows)
                    {
                        Vector512<ushort>.Zero.Store(dst);
                        continue;
                    }
                    var src = x + (long)row * n + s * 32;
                    Vector512.Narrow(RoundToBf16(Vector512.Load(src)), RoundToBf16(Vector512.Load(src + 16))).Store(dst);
                }
            }
        }
    }

    /// <summary>Top 16 bits of the nearest-even bf16 (finite inputs; NaN payloads may change, not NaN-ness of normal data).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> RoundToBf16(Vector512<float> v)
    {
        var u = v.AsUInt32();
        var odd = Vector512.ShiftRightLogical(u, 16) & Vector512<uint>.One;
        return Vector512.ShiftRightLogical(u + Vector512.Create(0x7fffu) + odd, 16);
    }

    /// <summary>Columns [o0, o1) of y (rows, outF) from packed activations and w (outF, n) bf16; o0, o1 multiples of 4.</summary>
    public static void Run(ushort* packed, int rows, ushort* w, int n, int outF, float* y, int o0, int o1)
    {
        var steps = n / 32;
        var blocks = (rows + 3) / 4;
        Args a;
        a.WStride = 2L * n;
        a.Steps = steps;
        a.YStride = 4L * outF;
        for (var o = o0; o < o1; o += 4)
        {
            a.W = w + (long)o * n;
            a.Prefetch = w + (long)(o + 4) * n; // prefetches never fault, past the end included
            for (var b = 0; b < blocks; b++)
            {
                a.X = packed + (long)b * steps * 128;
                a.Y = y + (long)4 * b * outF + o;
                a.Rows = Math.Min(4, rows - 4 * b);
                var kernel = a.Rows switch { 1 => s_kernel1, 2 => s_kernel2, _ => s_kernel };
                kernel(&a);
            }
        }
    }

    /// <summary>Packs x into this thread's buffer, then <see cref="Run"/>; what a worker does with its share of a GEMV.</summary>
    public static void Project(float* x, int rows, ushort* w, int n, int outF, float* y, int o0, int o1)
    {
        var pack = t_pack ??= new PackBuffer();
        var packed = pack.Get(PackedLength(rows, n));
        Pack(x, rows, n, packed);
        Run(packed, rows, w, n, outF, y, o0, o1);
    }

    /// <summary>
    /// Many rows (prefill): x packed once, then each worker takes a share of the output columns and walks x in
    /// chunks that stay in L2 (~512 KB), so a 4-row weight block read once serves every row of the chunk from L1
    /// and the weight streams from memory once per chunk rather than once per 4 rows.
    /// </summary>
    public static void ProjectMany(float* x, int rows, ushort* w, int n, int outF, float* y, int threads)
    {
        var packed = (ushort*)NativeMemory.AlignedAlloc((nuint)(PackedLength(rows, n) * 2), 64);
        try
        {
            Pack(x, rows, n, packed);
            var state = new ManyState { Packed = packed, Rows = rows, W = w, N = n, OutF = outF, Y = y };
            var parts = (long)outF * n < 65536 ? 1 : Math.Clamp(threads, 1, Math.Max(1, outF / 16));
            GemvWorkers.Shared.Run(&RunManyPart, &state, parts);
        }
        finally
        {
            NativeMemory.AlignedFree(packed);
        }
    }

    private static void RunManyPart(void* state, int part, int parts)
    {
        ref var s = ref *(ManyState*)state;
        var (o0, o1) = PartitionedWork.OutputRange(s.OutF, part, parts);
        if (o0 >= o1) return;
        var steps = s.N / 32;
        var chunkRows = Math.Max(4, (int)Math.Min(s.Rows, (512 * 1024 / (2L * s.N)) & ~3L));
        for (var r0 = 0; r0 < s.Rows; r0 += chunkRows)
        {
            var r = Math.Min(chunkRows, s.Rows - r0);
            // Row blocks of 4 start at r0 (a multiple of 4), so the packed blocks of the chunk are contiguous.
            Run(s.Packed + (long)(r0 / 4) * steps * 128, r, s.W, s.N, s.OutF, s.Y + (long)r0 * s.OutF, o0, o1);
        }
    }

    private struct ManyState
    {
        public ushort* Packed;
        public int Rows;
        public ushort* W;
        public int N;
        public int OutF;
        public float* Y;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Args
    {
        public ushort* W;
        public long WStride;
        public ushort* X;
        public long Steps;
        public float* Y;
        public long YStride;
        public long Rows;
        public ushort* Prefetch;
    }

    /// <summary>One 64-byte aligned native buffer per thread, grown on demand, freed with the thread.</summary>
    private sealed class PackBuffer
    {
        private ushort* _data;
        private long _length;

        public ushort* Get(long length)
        {
            if (length <= _length) return _data;
            if (_data != null) NativeMemory.AlignedFree(_data);
            _data = (ushort*)NativeMemory.AlignedAlloc((nuint)(length * 2), 64);
            _length = length;
            return _data;
        }

        ~PackBuffer()
        {
            if (_data != null) NativeMemory.AlignedFree(_data);
        }
    }
}

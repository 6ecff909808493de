using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using QwenAspire.Engine.Model.Kernels.Native;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// <c>y = x Wᵀ</c> against int8/int4 weights with AVX512-VNNI (scripts/gen-quant-dot.py, assembled into
/// Native/QuantDotCode.g.cs): activations are quantized to int8 per group (<see cref="QuantActivations8"/>) and one
/// <c>vpdpbusd</c> takes 64 products into the 16 group lanes of a super-block, where the int16 tiles
/// (<see cref="QuantBlocks"/>) spend a widen, a <c>vpmaddwd</c> and an add per 32. A tile is two weight rows × up to
/// four activation rows; more rows take further tiles over the same weight rows, which are then in L1, so batched
/// decode reads each weight from memory once. Prompts (many rows) walk the rows in chunks whose activations stay in
/// L2 (~256 KB), so the weight streams from memory once per chunk. A row's result does not depend on the other rows
/// of its step.
/// </summary>
internal static unsafe class VnniGemv
{
    private static readonly bool s_wanted = Environment.GetEnvironmentVariable("QWENASPIRE_VNNI") != "0" && CpuFeatures.Avx512Vnni;
    private static readonly delegate* unmanaged[SuppressGCTransition]<Args*, void>[] s_int8 =
        [Load(QuantDotCode.Int8Rows1), Load(QuantDotCode.Int8Rows2), Load(QuantDotCode.Int8Rows3), Load(QuantDotCode.Int8Rows4)];
    private static readonly delegate* unmanaged[SuppressGCTransition]<Args*, void>[] s_int4 =
        [Load(QuantDotCode.Int4Rows1), Load(QuantDotCode.Int4Rows2), Load(QuantDotCode.Int4Rows3), Load(QuantDotCode.Int4Rows4)];

    /// <summary>The CPU has AVX512-VNNI and the kernels loaded (QWENASPIRE_VNNI=0 turns them off, for A/B runs).</summary>
    public static bool Available { get; } = AllLoaded();

    private static bool AllLoaded()
    {
        if (!s_wanted) return false;
        for (var i = 0; i < 4; i++)
        {
            if (s_int8[i] == null || s_int4[i] == null) return false;
        }
        return true;
    }

    private static delegate* unmanaged[SuppressGCTransition]<Args*, void> Load(ReadOnlySpan<byte> code) =>
        s_wanted ? (delegate* unmanaged[SuppressGCTransition]<Args*, void>)ExecutableCode.TryLoad(code) : null;

    /// <summary>Quantizes x, then runs the output rows split across the shared GEMV workers (<see cref="QuantGemv.Compute(float*, int, byte*, byte*, byte*, float*, int, int, int, float*, bool, int, GemvWidth)"/>'s raw arguments).</summary>
    public static void Compute(float* x, int rows, byte* q, byte* scales, byte* sub, float* rowFactors, int group, int outF, int inF, float* y, bool int4, int threads)
    {
        if (!Available) throw new PlatformNotSupportedException("the VNNI kernels need AVX512-VNNI on x86-64 Linux or Windows.");
        var xBytes = (QuantActivations8.PackedBytes(rows, inF, group) + 63) & ~63L;
        var block = (byte*)NativeMemory.AlignedAlloc((nuint)(xBytes + QuantActivations8.GroupBytes(rows, inF, group)), 64);
        try
        {
            var xq = (sbyte*)block;
            var g = block + xBytes;
            QuantActivations8.Quantize(x, rows, inF, group, int4, xq, g);
            var state = new State
            {
                X = xq, G = g, Rows = rows, W = q, S = scales, Sub = sub, RowFactor = rowFactors, RowBytes = QuantLayout.RowBytes(inF, group, int4),
                ScaleRowBytes = QuantLayout.ScaleBytes(inF, group, int4), SubRowBytes = QuantLayout.SubBytes(inF, group, int4),
                SuperBlocks = QuantLayout.SuperBlocks(inF, group), Units = int4 ? group / 8 : group / 4, SuperBlockColumns = QuantLayout.SuperBlock(group),
                OutF = outF, Y = y, Int4 = int4,
                ChunkBlocks = (int)Math.Clamp(256 * 1024 / (4L * QuantLayout.PaddedWidth(inF, group)), 1, int.MaxValue),
            };
            var parts = (long)outF * inF < 65536 ? 1 : Math.Clamp(threads, 1, Math.Max(1, outF / 16));
            GemvWorkers.Shared.Run(&Execute, &state, parts);
        }
        finally
        {
            NativeMemory.AlignedFree(block);
        }
    }

    private static void Execute(void* state, int part, int parts)
    {
        ref readonly var s = ref *(State*)state;
        // 64-byte aligned output ranges (16 floats) so threads never share a cache line of y.
        var chunk = ((s.OutF + parts - 1) / parts + 15) & ~15;
        var o0 = Math.Min(s.OutF, part * chunk);
        var o1 = Math.Min(s.OutF, o0 + chunk);
        if (o0 >= o1) return;
        var blocks = QuantActivations8.Blocks(s.Rows);
        for (var b0 = 0; b0 < blocks; b0 += s.ChunkBlocks) Run(s, o0, o1, b0, Math.Min(blocks, b0 + s.ChunkBlocks));
    }

    /// <summary>Output rows [o0, o1) of the activation blocks [b0, b1).</summary>
    private static void Run(in State s, int o0, int o1, int b0, int b1)
    {
        var kernels = s.Int4 ? s_int4 : s_int8;
        var sums = stackalloc float[2 * 4 * 16];
        Args a;
        a.WStride = s.RowBytes;
        a.Units = s.Units;
        a.Sums = sums;
        var xBlockBytes = (long)s.SuperBlocks * 4 * s.SuperBlockColumns;
        var gBlockBytes = (long)s.SuperBlocks * 512;
        for (var o = o0; o < o1; o += 2)
        {
            // A last odd row reads itself twice; only its own result is stored.
            var pair = o + 1 < o1 ? 1 : 0;
            for (var b = b0; b < b1; b++)
            {
                var t0 = 4 * b;
                var count = Math.Min(4, s.Rows - t0);
                a.W = s.W + (long)o * s.RowBytes;
                a.S0 = s.S + (long)o * s.ScaleRowBytes;
                a.S1 = a.S0 + pair * s.ScaleRowBytes;
                a.U0 = s.Sub + (long)o * s.SubRowBytes;
                a.U1 = a.U0 + pair * s.SubRowBytes;
                a.X = s.X + b * xBlockBytes;
                a.G = s.G + b * gBlockBytes;
                a.SuperBlocks = s.SuperBlocks;
                // The first block fetches the next pair of rows; later blocks find these in L1.
                a.Prefetch = a.W + (b == b0 ? 2 * s.RowBytes : 0);
                if (pair == 0) a.WStride = 0;
                kernels[count - 1](&a);
                a.WStride = s.RowBytes;
                for (var t = 0; t < count; t++)
                {
                    var y = s.Y + (long)(t0 + t) * s.OutF + o;
                    y[0] = Vector512.Sum(Vector512.Load(sums + 32 * t)) * s.RowFactor[o];
                    if (pair == 1) y[1] = Vector512.Sum(Vector512.Load(sums + 32 * t + 16)) * s.RowFactor[o + 1];
                }
            }
        }
    }

    private struct State
    {
        public sbyte* X;
        public byte* G;
        public int Rows;
        public byte* W;
        public byte* S;
        public byte* Sub;
        public float* RowFactor;
        public long RowBytes;
        public long ScaleRowBytes;
        public long SubRowBytes;
        public int SuperBlocks;
        public int Units;
        public int SuperBlockColumns;
        public int OutF;
        public float* Y;
        public bool Int4;
        /// <summary>Activation blocks (of four rows) per pass over the weight rows.</summary>
        public int ChunkBlocks;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Args
    {
        public byte* W;
        public long WStride;
        public byte* S0;
        public byte* S1;
        public byte* U0;
        public byte* U1;
        public sbyte* X;
        public byte* G;
        public long SuperBlocks;
        public long Units;
        public float* Sums;
        public byte* Prefetch;
    }
}

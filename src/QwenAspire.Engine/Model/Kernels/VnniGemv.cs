using System.Runtime.InteropServices;
using QwenAspire.Engine.Model.Kernels.Native;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// <c>y = x Wᵀ</c> against int8/int4 weights with AVX512-VNNI (scripts/gen-quant-dot.py, assembled into
/// Native/QuantDotCode.g.cs): activations are quantized to int8 per group (<see cref="QuantActivations8"/>) and one
/// <c>vpdpbusd</c> takes 64 products into the 16 group lanes of a super-block, where the int16 tiles
/// (<see cref="QuantBlocks"/>) spend a widen, a <c>vpmaddwd</c> and an add per 32. A tile is two weight rows × up to
/// four activation rows, up to 16 row pairs per call; more activation rows take further calls over the same 32 weight
/// rows, which are then in L2, so batched decode reads each weight from memory once. Prompts (many rows) walk the rows in chunks whose activations stay in
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
        var weight = new Weight(q, scales, sub, rowFactors, outF, y);
        ComputeGroup(x, rows, group, inF, int4, new ReadOnlySpan<Weight>(&weight, 1), threads);
    }

    /// <summary>
    /// Several weights on the same x (q/k/v, gate/up; same width, group and format): x is quantized once and the
    /// weights run as one hand-off to the workers, each worker taking its share of every weight in turn.
    /// </summary>
    public static void ComputeGroup(float* x, int rows, int group, int inF, bool int4, ReadOnlySpan<Weight> weights, int threads)
    {
        if (!Available) throw new PlatformNotSupportedException("the VNNI kernels need AVX512-VNNI on x86-64 Linux or Windows.");
        if (rows == 0 || weights.Length == 0) return;
        var xBytes = (QuantActivations8.PackedBytes(rows, inF, group) + 63) & ~63L;
        var gBytes = QuantActivations8.GroupBytes(rows, inF, group);
        var block = (byte*)NativeMemory.AlignedAlloc((nuint)(xBytes + gBytes + weights.Length * sizeof(State)), 64);
        try
        {
            var xq = (sbyte*)block;
            var g = block + xBytes;
            var states = (State*)(g + gBytes);
            QuantActivations8.Quantize(x, rows, inF, group, int4, xq, g);
            long total = 0;
            var minOut = int.MaxValue;
            for (var i = 0; i < weights.Length; i++)
            {
                var w = weights[i];
                states[i] = new State
                {
                    X = xq, G = g, Rows = rows, W = w.Q, S = w.Scales, Sub = w.Sub, RowFactor = w.RowFactors, RowBytes = QuantLayout.RowBytes(inF, group, int4),
                    ScaleRowBytes = QuantLayout.ScaleBytes(inF, group, int4), SubRowBytes = QuantLayout.SubBytes(inF, group, int4),
                    SuperBlocks = QuantLayout.SuperBlocks(inF, group), Units = int4 ? group / 8 : group / 4, SuperBlockColumns = QuantLayout.SuperBlock(group),
                    OutF = w.OutF, Y = w.Y, Int4 = int4,
                    ChunkBlocks = (int)Math.Clamp(256 * 1024 / (4L * QuantLayout.PaddedWidth(inF, group)), 1, int.MaxValue),
                };
                total += (long)w.OutF * inF;
                minOut = Math.Min(minOut, w.OutF);
            }
            var parts = total < 65536 ? 1 : Math.Clamp(threads, 1, Math.Max(1, minOut / 16));
            var group_ = new GroupState { States = states, Count = weights.Length };
            GemvWorkers.Shared.Run(&ExecuteGroup, &group_, parts);
        }
        finally
        {
            NativeMemory.AlignedFree(block);
        }
    }

    /// <summary>One weight of <see cref="ComputeGroup"/>: its packed storage (<see cref="QuantLayout"/>) and its output y (rows, outF).</summary>
    public readonly struct Weight(byte* q, byte* scales, byte* sub, float* rowFactors, int outF, float* y)
    {
        public readonly byte* Q = q;
        public readonly byte* Scales = scales;
        public readonly byte* Sub = sub;
        public readonly float* RowFactors = rowFactors;
        public readonly int OutF = outF;
        public readonly float* Y = y;
    }

    private struct GroupState
    {
        public State* States;
        public int Count;
    }

    private static void ExecuteGroup(void* state, int part, int parts)
    {
        ref readonly var group = ref *(GroupState*)state;
        for (var i = 0; i < group.Count; i++) Execute(group.States + i, part, parts);
    }

    private static void Execute(void* state, int part, int parts)
    {
        ref readonly var s = ref *(State*)state;
        var (o0, o1) = PartitionedWork.OutputRange(s.OutF, part, parts);
        if (o0 >= o1) return;
        var blocks = QuantActivations8.Blocks(s.Rows);
        for (var b0 = 0; b0 < blocks; b0 += s.ChunkBlocks) Run(s, o0, o1, b0, Math.Min(blocks, b0 + s.ChunkBlocks));
    }

    /// <summary>Row pairs per kernel call: 32 weight rows stay in L2 while every activation block of the chunk passes.</summary>
    private const int PairsPerCall = 16;

    private static int Slot(int k) => k < 4 ? 4 * k : 4 * (k - 4) + 2;

    private static readonly long s_prefetchBytes = long.TryParse(Environment.GetEnvironmentVariable("QWENASPIRE_VNNI_PREFETCH"), out var d) ? d : 8192;

    /// <summary>Whole pairs ahead, at least the prefetch distance: the weight rows are one sequential stream.</summary>
    private static long PrefetchDistance(long rowBytes) => Math.Max(1, (s_prefetchBytes + 2 * rowBytes - 1) / (2 * rowBytes)) * 2 * rowBytes;

    /// <summary>Output rows [o0, o1) of the activation blocks [b0, b1).</summary>
    private static void Run(in State s, int o0, int o1, int b0, int b1)
    {
        var kernels = s.Int4 ? s_int4 : s_int8;
        var sums = stackalloc float[PairsPerCall * 16];
        var xBlockBytes = (long)s.SuperBlocks * 4 * s.SuperBlockColumns;
        var gBlockBytes = (long)s.SuperBlocks * 512;
        var o = o0;
        while (o < o1)
        {
            // Whole pairs, then a last odd row alone (strides 0: it reads itself twice, only its result is kept).
            var pairs = Math.Min(PairsPerCall, (o1 - o) / 2);
            var single = pairs == 0;
            if (single) pairs = 1;
            for (var b = b0; b < b1; b++)
            {
                var t0 = 4 * b;
                var count = Math.Min(4, s.Rows - t0);
                Args a;
                a.W = s.W + (long)o * s.RowBytes;
                a.WStride = single ? 0 : s.RowBytes;
                a.S = s.S + (long)o * s.ScaleRowBytes;
                a.SStride = single ? 0 : s.ScaleRowBytes;
                a.U = s.Sub + (long)o * s.SubRowBytes;
                a.UStride = single ? 0 : s.SubRowBytes;
                a.X = s.X + b * xBlockBytes;
                a.G = s.G + b * gBlockBytes;
                a.SuperBlocks = s.SuperBlocks;
                a.Units = s.Units;
                a.Sums = sums;
                a.Pairs = pairs;
                a.PrefetchDistance = PrefetchDistance(s.RowBytes);
                kernels[count - 1](&a);
                for (var p = 0; p < pairs; p++)
                {
                    var row = o + 2 * p;
                    for (var t = 0; t < count; t++)
                    {
                        // Sum k = 2t + r sits at 4k (k < 4) or 4(k - 4) + 2 (the kernel's transpose-sum).
                        var v = sums + 16 * p;
                        var y = s.Y + (long)(t0 + t) * s.OutF + row;
                        y[0] = v[Slot(2 * t)] * s.RowFactor[row];
                        if (!single) y[1] = v[Slot(2 * t + 1)] * s.RowFactor[row + 1];
                    }
                }
            }
            o += single ? 1 : 2 * pairs;
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
        public byte* S;
        public long SStride;
        public byte* U;
        public long UStride;
        public sbyte* X;
        public byte* G;
        public long SuperBlocks;
        public long Units;
        public float* Sums;
        public long Pairs;
        public fixed long Scratch[5];
        public long PrefetchDistance;
    }
}

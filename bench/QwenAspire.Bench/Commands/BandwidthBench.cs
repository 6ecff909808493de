using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using QwenAspire.Engine.Model.Kernels;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-bandwidth</c>: the physical limit of batch-1 decode on this machine. Reads a buffer much larger than the
/// caches with 1..T threads (each its own contiguous slice, widest vectors the CPU has, best of several passes),
/// then turns GB/s into the tok/s ceiling of each weight format for Qwen3-1.7B's shapes: a decode step reads every
/// linear weight and the tied lm_head once, whatever the batch. A kernel's "% of the limit" is against this figure.
/// </summary>
internal static unsafe class BandwidthBench
{
    public const string UsageText = "bench-bandwidth [--threads 2] [--mib 1024] [--passes 5] [--group 32]";

    // Qwen3-1.7B: hidden 2048, intermediate 6144, 16 query / 8 KV heads of 128, 28 layers, vocab 151,936 tied.
    private static readonly (int Out, int In)[] s_layerLinears =
        [(2048, 2048), (1024, 2048), (1024, 2048), (2048, 2048), (6144, 2048), (6144, 2048), (2048, 6144)];
    private const int Layers = 28;
    private const int Vocab = 151_936;
    private const int Hidden = 2048;

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var maxThreads = cl.Int("threads", 2);
        var bytes = cl.Long("mib", 1024) << 20;
        var passes = cl.Int("passes", 5);
        var group = cl.Int("group", 32);
        var buffer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            // Touch every page first so the first pass does not time page faults.
            new Span<byte>(buffer, (int)Math.Min(bytes, int.MaxValue)).Fill(1);
            for (long o = int.MaxValue; o < bytes; o += int.MaxValue)
                new Span<byte>(buffer + o, (int)Math.Min(bytes - o, int.MaxValue)).Fill(1);
            double best = 0;
            for (var t = 1; t <= maxThreads; t++)
            {
                best = Measure(buffer, bytes, t, passes);
                Console.WriteLine($"read bandwidth, {t} thread(s), {bytes >> 20} MiB, best of {passes}: {best:0.0} GB/s");
            }
            PrintLimits(best, maxThreads, group);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
        return 0;
    }

    private static double Measure(byte* buffer, long bytes, int threads, int passes)
    {
        var best = 0.0;
        var slice = bytes / threads / 64 * 64;
        for (var p = 0; p < passes; p++)
        {
            var sums = new double[threads];
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                sums[i] = Sum(buffer + i * slice, slice);
            })).ToList();
            workers.ForEach(w => w.Start());
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            workers.ForEach(w => w.Join());
            var seconds = clock.Elapsed.TotalSeconds;
            // The sum is printed nowhere but kept, so the JIT cannot drop the reads.
            if (sums.Sum() < 0) Console.WriteLine("impossible");
            best = Math.Max(best, slice * threads / seconds / 1e9);
        }
        return best;
    }

    /// <summary>Sums bytes as int32 lanes with four independent accumulators (enough loads in flight to saturate).</summary>
    private static double Sum(byte* p, long n)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<int> a = default, b = default, c = default, d = default;
            for (long i = 0; i + 256 <= n; i += 256)
            {
                a += Vector512.Load((int*)(p + i));
                b += Vector512.Load((int*)(p + i + 64));
                c += Vector512.Load((int*)(p + i + 128));
                d += Vector512.Load((int*)(p + i + 192));
            }
            return Vector512.Sum(a + b + c + d);
        }
        Vector256<int> e = default, f = default, g = default, h = default;
        for (long i = 0; i + 128 <= n; i += 128)
        {
            e += Vector256.Load((int*)(p + i));
            f += Vector256.Load((int*)(p + i + 32));
            g += Vector256.Load((int*)(p + i + 64));
            h += Vector256.Load((int*)(p + i + 96));
        }
        return Vector256.Sum(e + f + g + h);
    }

    /// <summary>Bytes a decode step reads per weight format, from the engine's own storage layout, and the ceiling.</summary>
    private static void PrintLimits(double gbPerSecond, int threads, int group)
    {
        Console.WriteLine($"decode ceiling for Qwen3-1.7B at {gbPerSecond:0.0} GB/s ({threads} threads), weights only (KV reads add per context):");
        Console.WriteLine("  format                            GB/token   tok/s limit");
        foreach (var (name, int4, dense) in new[] { ("bf16 / f16", false, true), ($"int8 (group {group}, f16 scales)", false, false), ($"int4 (group {group}, super-blocks)", true, false) })
        {
            double total = 0;
            foreach (var (o, i) in s_layerLinears) total += Layers * StoredBytes(o, i, group, int4, dense);
            // The tied lm_head is quantized with the rest by default (engine.quantize_lm_head); the embedding is one row a token.
            total += StoredBytes(Vocab, Hidden, group, int4, dense);
            Console.WriteLine($"  {name,-33} {total / 1e9,8:0.000}   {gbPerSecond * 1e9 / total,8:0.0}");
        }
    }

    private static double StoredBytes(int outF, int inF, int group, bool int4, bool dense) => dense
        ? 2.0 * outF * inF
        : (double)outF * (QuantLayout.RowBytes(inF, group, int4) + QuantLayout.ScaleBytes(inF, group, int4) + QuantLayout.SubBytes(inF, group, int4));
}

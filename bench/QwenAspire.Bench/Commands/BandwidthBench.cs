using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Kernels;
using QwenAspire.Engine.Model.Weights;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-bandwidth</c>: the physical limit of batch-1 decode on this machine. Reads a buffer much larger than the
/// caches with 1..T threads (each its own contiguous slice, widest vectors the CPU has, several read patterns, best
/// of several passes), then turns GB/s into the tok/s ceiling of each weight format for Qwen3-1.7B's shapes: a decode
/// step reads every linear weight and the tied lm_head once, whatever the batch.
/// </summary>
internal static unsafe class BandwidthBench
{
    public const string UsageText = "bench-bandwidth [--threads 2] [--mib 1024] [--passes 5] [--group 32] [--huge true]";
    private const int MadvHugePage = 14;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    // Qwen3-1.7B: hidden 2048, intermediate 6144, 16 query / 8 KV heads of 128, 28 layers, vocab 151,936 tied.
    private static readonly (string Module, int Out, int In)[] s_layerLinears =
        [("self_attn.q_proj", 2048, 2048), ("self_attn.k_proj", 1024, 2048), ("self_attn.v_proj", 1024, 2048), ("self_attn.o_proj", 2048, 2048),
         ("mlp.gate_proj", 6144, 2048), ("mlp.up_proj", 6144, 2048), ("mlp.down_proj", 2048, 6144)];
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
        var huge = cl.Get("huge") == "true";
        // 2 MiB alignment so that, with --huge true, madvise can back the whole buffer with transparent huge pages.
        var buffer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 2 << 20);
        if (huge && OperatingSystem.IsLinux())
            Console.WriteLine($"madvise(MADV_HUGEPAGE): {(Madvise((nint)buffer, (nuint)bytes, MadvHugePage) == 0 ? "ok" : "refused")}");
        try
        {
            // Touch every page first so the first pass does not time page faults.
            for (long o = 0; o < bytes; o += int.MaxValue)
                new Span<byte>(buffer + o, (int)Math.Min(bytes - o, int.MaxValue)).Fill(1);
            double best = 0;
            for (var t = 1; t <= maxThreads; t++)
            {
                best = Measure(buffer, bytes, t, passes);
                Console.WriteLine($"read bandwidth, {t} thread(s), {bytes >> 20} MiB, best pattern, best of {passes}: {best:0.0} GB/s");
            }
            PrintLimits(best, maxThreads, group);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
        return 0;
    }

    // Read patterns tried per thread count: one stream or several interleaved ones (more misses in flight per core),
    // with or without software prefetch a few KiB ahead. The best is the machine's figure: a kernel could use it too.
    private static readonly (int Streams, bool Prefetch)[] s_patterns = [(1, false), (2, false), (4, false), (1, true), (4, true)];

    private static double Measure(byte* buffer, long bytes, int threads, int passes)
    {
        var best = 0.0;
        var parts = new List<string>();
        foreach (var (streams, prefetch) in s_patterns)
        {
            var figure = 0.0;
            for (var p = 0; p < passes; p++) figure = Math.Max(figure, Pass(buffer, bytes, threads, streams, prefetch));
            parts.Add($"{streams} stream(s){(prefetch ? " + prefetch" : "")} {figure:0.0}");
            best = Math.Max(best, figure);
        }
        Console.WriteLine($"  {threads} thread(s): " + string.Join(", ", parts) + " GB/s");
        return best;
    }

    private static double Pass(byte* buffer, long bytes, int threads, int streams, bool prefetch)
    {
        var slice = bytes / threads / (256 * streams) * (256 * streams);
        var sums = new double[threads];
        using var start = new Barrier(threads + 1);
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            sums[i] = Sum(buffer + i * slice, slice, streams, prefetch);
        })).ToList();
        workers.ForEach(w => w.Start());
        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        workers.ForEach(w => w.Join());
        var seconds = clock.Elapsed.TotalSeconds;
        // The sum is printed nowhere but kept, so the JIT cannot drop the reads.
        if (sums.Sum() < 0) Console.WriteLine("impossible");
        return slice * threads / seconds / 1e9;
    }

    /// <summary>
    /// Sums bytes as int32 lanes, 256 bytes of each of <paramref name="streams"/> equal parts per iteration, four
    /// independent accumulators (the adds never limit the loads).
    /// </summary>
    private static double Sum(byte* p, long n, int streams, bool prefetch)
    {
        var part = n / streams;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<int> a = default, b = default, c = default, d = default;
            for (long i = 0; i + 256 <= part; i += 256)
            {
                for (var s = 0; s < streams; s++)
                {
                    var q = p + s * part + i;
                    if (prefetch) Sse.Prefetch0(q + 4096);
                    a += Vector512.Load((int*)q);
                    b += Vector512.Load((int*)(q + 64));
                    c += Vector512.Load((int*)(q + 128));
                    d += Vector512.Load((int*)(q + 192));
                }
            }
            return Vector512.Sum(a + b + c + d);
        }
        Vector256<int> e = default, f = default, g = default, h = default;
        for (long i = 0; i + 128 <= part; i += 128)
        {
            for (var s = 0; s < streams; s++)
            {
                var q = p + s * part + i;
                if (prefetch && Sse.IsSupported) Sse.Prefetch0(q + 4096);
                e += Vector256.Load((int*)q);
                f += Vector256.Load((int*)(q + 32));
                g += Vector256.Load((int*)(q + 64));
                h += Vector256.Load((int*)(q + 96));
            }
        }
        return Vector256.Sum(e + f + g + h);
    }

    /// <summary>Bytes a decode step reads per weight format, from the engine's own storage layout, and the ceiling.</summary>
    private static void PrintLimits(double gbPerSecond, int threads, int group)
    {
        Console.WriteLine($"decode ceiling for Qwen3-1.7B at {gbPerSecond:0.0} GB/s ({threads} threads), weights only (KV reads add per context):");
        Console.WriteLine("  format                            GB/token   tok/s limit");
        foreach (var (name, mode) in new[] { ("bf16 / f16", WeightQuantization.None), ($"int8 (group {group}, f16 scales)", WeightQuantization.Int8), ($"int4 (group {group}, Q4_K_M-like mix)", WeightQuantization.Int4) })
        {
            double total = 0;
            for (var layer = 0; layer < Layers; layer++)
                foreach (var (module, o, i) in s_layerLinears)
                    total += StoredBytes(o, i, group, QuantizationMix.ModeFor(Qwen3Weights.Layer(layer, module), mode, Layers));
            // The tied lm_head is quantized with the rest by default (int4 included); the embedding is one row a token.
            total += StoredBytes(Vocab, Hidden, group, QuantizationMix.ModeFor(Qwen3Weights.LmHead, mode, Layers));
            Console.WriteLine($"  {name,-33} {total / 1e9,8:0.000}   {gbPerSecond * 1e9 / total,8:0.0}");
        }
    }

    private static double StoredBytes(int outF, int inF, int group, WeightQuantization mode)
    {
        if (mode == WeightQuantization.None) return 2.0 * outF * inF;
        var int4 = mode == WeightQuantization.Int4;
        return (double)outF * (QuantLayout.RowBytes(inF, group, int4) + QuantLayout.ScaleBytes(inF, group, int4) + QuantLayout.SubBytes(inF, group, int4));
    }
}

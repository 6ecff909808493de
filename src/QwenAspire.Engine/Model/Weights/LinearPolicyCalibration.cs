using System.Diagnostics;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Weights;

/// <summary>
/// Picks the 16-bit projection paths by timing them on one of the model's own weights at load, because the winner
/// depends on the CPU: on an AMD Zen 4 (AVX-512 BF16) libtorch's bf16 GEMM ran prefill 2.6x faster than widening to
/// f32 and beat our GEMV above ~12 rows, while on an Intel AVX-512 BF16 host the f32 GEMM on widened weights was
/// faster (bench/ANCHORS.md). Costs well under a second; small weights (test models) keep the given policy so
/// their numerics do not depend on the machine.
/// </summary>
public static class LinearPolicyCalibration
{
    /// <summary>Weights smaller than this are not worth timing (and timing them says nothing about big ones).</summary>
    public const long MinElements = 4L << 20;

    /// <summary>The 16-bit GEMM takes batched decode rows from the GEMV only when at least this much faster.</summary>
    private const double GemmMargin = 0.9;

    /// <summary>Rows of the prefill probe (a prompt chunk).</summary>
    private const int PrefillRows = 64;

    /// <summary>
    /// The policy for 16-bit CPU weights shaped like <paramref name="sample"/>; <paramref name="report"/> says what was
    /// measured. Returns <paramref name="policy"/> unchanged for f32, non-CPU or small weights.
    /// </summary>
    public static LinearPolicy Calibrate(Tensor sample, LinearPolicy policy, out string? report)
    {
        report = null;
        if (sample.dtype is not (ScalarType.BFloat16 or ScalarType.Float16) || sample.device_type != TorchSharp.DeviceType.CPU
            || sample.NumberOfElements < MinElements || !Kernels.ReducedGemv.Supported)
            return policy;
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var inFeatures = sample.shape[1];
        var direct = policy with { KernelMaxRows = 0, WidenAboveRows = int.MaxValue, Bf16DotGemm = false };

        // Prefill: widened f32 blocks (the given policy) against the 16-bit GEMM itself.
        var widenedMs = Time(sample, policy with { KernelMaxRows = 0, Bf16DotGemm = false }, PrefillRows, inFeatures);
        var directMs = Time(sample, direct, PrefillRows, inFeatures);
        var widenAbove = directMs < 0.9 * widenedMs ? int.MaxValue : policy.WidenAboveRows;
        // And our AVX512-BF16 GEMM, where the CPU has it, against the better of the two.
        double? dotMs = null;
        var dotGemm = false;
        if (sample.dtype == ScalarType.BFloat16 && Kernels.Bf16DotGemv.Accepts((int)sample.shape[0], (int)inFeatures))
        {
            dotMs = Time(sample, direct with { Bf16DotGemm = true }, PrefillRows, inFeatures);
            dotGemm = dotMs < Math.Min(widenedMs, directMs);
        }

        // Batched decode: our GEMV (reads the weight once, f32 activations) against the 16-bit GEMM, at the largest
        // row counts it could take; the GEMV keeps the rows up to the largest count where it is not slower.
        var kernelMax = Math.Min(policy.KernelMaxRows, 8);
        var probes = new List<string>();
        foreach (var rows in new[] { 12, 16 })
        {
            if (rows > policy.KernelMaxRows) break;
            var kernelMs = Time(sample, policy with { KernelMaxRows = rows }, rows, inFeatures);
            var gemmMs = Time(sample, direct, rows, inFeatures);
            probes.Add($"{rows} rows: GEMV {kernelMs:0.00} ms, 16-bit GEMM {gemmMs:0.00} ms");
            // The GEMM must win clearly: timed alone it hides that a step with it wakes libtorch's OpenMP pool, whose
            // spinning then competes with the GEMV workers for the rest of the decode step (attention, grouped GEMVs).
            if (gemmMs >= GemmMargin * kernelMs) kernelMax = rows;
            else break;
        }
        var chosen = policy with { WidenAboveRows = widenAbove, KernelMaxRows = kernelMax, Bf16DotGemm = dotGemm };
        report = $"linear paths timed on a [{sample.shape[0]}, {inFeatures}] {sample.dtype} weight: {PrefillRows} rows widened " +
                 $"{widenedMs:0.00} ms vs 16-bit GEMM {directMs:0.00} ms; {string.Join("; ", probes)} -> SIMD GEMV up to {kernelMax} rows, " +
                 (dotGemm ? "AVX512-BF16 GEMM above" : widenAbove == int.MaxValue ? "16-bit GEMM above" : $"widened f32 GEMM above {widenAbove} rows")
                 + (dotMs is { } d ? $" (AVX512-BF16 GEMM {d:0.00} ms at {PrefillRows} rows)" : "");
        return chosen;
    }

    /// <summary>Best of three (after one warm-up) for a (rows, in) projection under <paramref name="policy"/>, in ms.</summary>
    private static double Time(Tensor sample, LinearPolicy policy, int rows, long inFeatures)
    {
        // An alias shares the storage; disposing the probe weight frees only the alias.
        using var weight = new DenseWeight(sample.alias(), policy);
        using var x = randn(rows, inFeatures, ScalarType.Float32);
        var threads = get_num_threads();
        var single = threads > 1 && weight.RunsOnKernelThreads(rows);
        // As in the forward: the GEMV's own threads run with libtorch on one thread.
        if (single) set_num_threads(1);
        try
        {
            weight.Project(x).Dispose();
            var best = double.MaxValue;
            for (var i = 0; i < 3; i++)
            {
                var clock = Stopwatch.StartNew();
                weight.Project(x).Dispose();
                best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
            }
            return best;
        }
        finally
        {
            if (single) set_num_threads(threads);
        }
    }
}

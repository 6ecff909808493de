using System.Runtime.Intrinsics;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// The machine a figure was taken on (printed first by every bench command): CPU model, the ISA extensions the
/// kernels care about as the OS reports them, which kernels the engine chose, cores and load.
/// </summary>
internal static class MachineInfo
{
    private static readonly string[] s_flags =
        ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_int8", "asimd", "sve"];

    public static string Describe()
    {
        string model = "unknown CPU", flags = "";
        if (File.Exists("/proc/cpuinfo"))
        {
            var lines = File.ReadLines("/proc/cpuinfo").Take(64).ToList();
            model = lines.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? model;
            var present = (lines.FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal) || l.StartsWith("Features", StringComparison.Ordinal))?.Split(':', 2)[1] ?? "")
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            flags = string.Join(" ", s_flags.Where(present.Contains));
        }
        var vector = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;
        var kernels = QwenAspire.Engine.Model.Kernels.Bf16DotGemv.Available ? "AVX512-BF16 GEMV/GEMM (emitted code)" : "managed SIMD only";
        return $"CPU: {model}; ISA: {flags}; .NET vectors {vector}-bit; kernels: {kernels}; {Environment.ProcessorCount} cores visible; load average {LoadAverage()}";
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

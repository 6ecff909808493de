using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// What this CPU offers the kernels, including extensions .NET has no intrinsics for (read from CPUID), and the
/// one-line description every benchmark prints beside its figures (machines of one kind differ).
/// </summary>
public static class CpuFeatures
{
    /// <summary>AVX512-BF16 (vdpbf16ps) with AVX512 BW usable by this process (the OS saves zmm state).</summary>
    public static bool Avx512Bf16 { get; } = X86Base.IsSupported && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated
        && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

    /// <summary>AVX512-VNNI (vpdpbusd), with AVX512 BW usable.</summary>
    public static bool Avx512Vnni { get; } = X86Base.IsSupported && Avx512BW.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;

    /// <summary>The processor's brand string (CPUID leaves 0x80000002-4), or the architecture where there is none.</summary>
    public static string Model { get; } = ReadBrand();

    /// <summary>E.g. "AMD EPYC 9R14 (2 threads): AVX-512 F/BW/VL, BF16, VNNI; 512-bit vectors".</summary>
    public static string Describe()
    {
        var isa = new List<string>();
        if (Avx512F.IsSupported) isa.Add("AVX-512 F" + (Avx512BW.IsSupported ? "/BW" : "") + (Avx512F.VL.IsSupported ? "/VL" : ""));
        else if (Avx2.IsSupported) isa.Add("AVX2" + (Fma.IsSupported ? "+FMA" : ""));
        if (Avx512Bf16) isa.Add("BF16");
        if (Avx512Vnni) isa.Add("VNNI");
        if (isa.Count == 0) isa.Add(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString());
        var width = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;
        return $"{Model} ({Environment.ProcessorCount} threads): {string.Join(", ", isa)}; {width}-bit vectors";
    }

    private static string ReadBrand()
    {
        if (!X86Base.IsSupported || (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x80000004)
            return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        Span<int> regs = stackalloc int[12];
        for (var i = 0; i < 3; i++)
        {
            var (a, b, c, d) = X86Base.CpuId(unchecked((int)0x80000002) + i, 0);
            regs[4 * i] = a;
            regs[4 * i + 1] = b;
            regs[4 * i + 2] = c;
            regs[4 * i + 3] = d;
        }
        return System.Text.Encoding.ASCII.GetString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(regs)).TrimEnd('\0', ' ').Trim();
    }
}

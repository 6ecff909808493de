using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>How 16-bit weights widen to f32, exactly, per lane (raw bits zero-extended to 32).</summary>
internal interface IWeightFormat
{
    static abstract Vector256<float> Widen(Vector256<uint> raw);
    static abstract Vector512<float> Widen(Vector512<uint> raw);
    static abstract float Widen(ushort raw);
}

/// <summary>bf16 is the top half of an f32: a shift is the exact conversion.</summary>
internal readonly struct Bf16Format : IWeightFormat
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(Vector256<uint> raw) => Vector256.ShiftLeft(raw, 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector512<uint> raw) => Vector512.ShiftLeft(raw, 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen(ushort raw) => BitConverter.UInt32BitsToSingle((uint)raw << 16);
}

/// <summary>
/// IEEE half → f32 without F16C (.NET exposes no vcvtph2ps): move exponent+mantissa into f32 position and
/// rescale by 2^112, which is exact for normals and subnormals alike; inf/NaN get the all-ones exponent.
/// </summary>
internal readonly struct F16Format : IWeightFormat
{
    private const uint Scale = (127 + 112) << 23; // 2^112 as f32 bits
    private const uint SpecialFrom = 0x7c00u << 13;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(Vector256<uint> raw)
    {
        var em = Vector256.ShiftLeft(raw & Vector256.Create(0x7fffu), 13);
        var sign = Vector256.ShiftLeft(raw & Vector256.Create(0x8000u), 16);
        var finite = em.AsSingle() * Vector256.Create(Scale).AsSingle();
        var special = (em | Vector256.Create(0x7f800000u)).AsSingle();
        var isSpecial = Vector256.GreaterThanOrEqual(em, Vector256.Create(SpecialFrom)).AsSingle();
        return (Vector256.ConditionalSelect(isSpecial, special, finite).AsUInt32() | sign).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector512<uint> raw)
    {
        var em = Vector512.ShiftLeft(raw & Vector512.Create(0x7fffu), 13);
        var sign = Vector512.ShiftLeft(raw & Vector512.Create(0x8000u), 16);
        var finite = em.AsSingle() * Vector512.Create(Scale).AsSingle();
        var special = (em | Vector512.Create(0x7f800000u)).AsSingle();
        var isSpecial = Vector512.GreaterThanOrEqual(em, Vector512.Create(SpecialFrom)).AsSingle();
        return (Vector512.ConditionalSelect(isSpecial, special, finite).AsUInt32() | sign).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen(ushort raw) => (float)BitConverter.UInt16BitsToHalf(raw);
}

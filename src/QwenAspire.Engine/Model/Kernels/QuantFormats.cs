using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// The packed layout shared by the quantized kernels, the load-time packer and the scalar reference.
/// </summary>
/// <remarks>
/// A row of <c>inF</c> weights is cut into groups of <c>G</c> columns (one scale each) and super-blocks of
/// <see cref="Lanes"/> groups (<c>16·G</c> columns; the last one zero-padded). Inside a super-block the weights are
/// stored in "steps" of 32: step <c>k</c> (0 ≤ k &lt; G/2) holds, for each group j = 0..15, that group's columns
/// <c>2k, 2k+1</c> at positions <c>2j, 2j+1</c>. A 16-bit widening of one step followed by <c>vpmaddwd</c> against
/// the activations permuted the same way therefore leaves group j's partial dot product in int32 lane j, so a
/// whole super-block accumulates in integer registers and is scaled once, with one vector of 16 group scales
/// (llama.cpp's runtime repack plays the same trick with interleaved rows).
/// <para>int8: one signed byte per weight at its storage position; scales are f16 per group, relative to one f32
/// factor per row (so they stay in f16's normal range whatever the weight magnitude).</para>
/// <para>int4: a super-block is G/4 chunks of 32 bytes; chunk m holds step 2m in the low nibbles and step 2m+1 in
/// the high nibbles (values 0..15). Weight = d·sc[j]·q − dmin·mn[j] (llama.cpp Q4_K's form, with 8-bit rather than
/// 6-bit sub-scales): per super-block f32 d and dmin in the scales, and 16 u8 sub-scales then 16 u8 sub-mins in the
/// sub-scales.</para>
/// </remarks>
internal static class QuantLayout
{
    /// <summary>Groups per super-block: the int32 lanes of one 512-bit vector.</summary>
    public const int Lanes = 16;
    /// <summary>Sub-scale bytes of one int4 super-block: 16 sub-scales, 16 sub-mins.</summary>
    public const int Int4SubBytes = 2 * Lanes;

    public static int SuperBlock(int group) => Lanes * group;

    /// <summary>The row width rounded up to whole super-blocks.</summary>
    public static int PaddedWidth(int inF, int group) => (inF + SuperBlock(group) - 1) / SuperBlock(group) * SuperBlock(group);

    public static int SuperBlocks(int inF, int group) => PaddedWidth(inF, group) / SuperBlock(group);

    /// <summary>Storage position (in weights) of column <paramref name="c"/> within its padded row.</summary>
    public static int Position(int c, int group)
    {
        var sb = SuperBlock(group);
        var s = c / sb;
        var j = c % sb / group;
        var e = c % group;
        return s * sb + (e >> 1) * 32 + 2 * j + (e & 1);
    }

    public static long RowBytes(int inF, int group, bool int4) => int4 ? PaddedWidth(inF, group) / 2 : PaddedWidth(inF, group);

    /// <summary>Scale bytes of one row: int8 f16 per group; int4 f32 d and dmin per super-block.</summary>
    public static long ScaleBytes(int inF, int group, bool int4) =>
        int4 ? 8L * SuperBlocks(inF, group) : 2L * PaddedWidth(inF, group) / group;

    /// <summary>Sub-scale bytes of one row: none for int8; int4 32 per super-block.</summary>
    public static long SubBytes(int inF, int group, bool int4) => int4 ? (long)SuperBlocks(inF, group) * Int4SubBytes : 0;

    /// <summary>Stored (unscaled) value at storage position <paramref name="pos"/>: −127..127 for int8, 0..15 for int4.</summary>
    public static unsafe int Value(byte* row, int pos, bool int4)
    {
        if (!int4) return ((sbyte*)row)[pos];
        var step = pos >> 5;
        var b = row[(step >> 1) * 32 + (pos & 31)];
        return (step & 1) == 0 ? b & 15 : b >> 4;
    }
}

/// <summary>One quantized format as the SIMD tiles read it: two steps of 32 weights widened to int16, and the scales of a super-block.</summary>
internal unsafe interface IQuantFormat
{
    static abstract bool Int4 { get; }
    /// <summary>Steps 2m and 2m + 1 of the super-block starting at <paramref name="sb"/> (its packed bytes).</summary>
    static abstract void Load(byte* sb, int m, out Vector512<short> a, out Vector512<short> b);
    static abstract void Load(byte* sb, int m, out Vector256<short> a0, out Vector256<short> a1, out Vector256<short> b0, out Vector256<short> b1);
    /// <summary>Packed bytes of one super-block.</summary>
    static abstract int SuperBlockBytes(int group);
    /// <summary>Scale bytes of one super-block.</summary>
    static abstract int ScaleBytes(int group);
    /// <summary>Sub-scale bytes of one super-block.</summary>
    static abstract int SubBytes { get; }
    /// <summary>Per-lane multipliers of the int32 sums (and, int4, the per-lane mins that multiply the activation group sums).</summary>
    static abstract void Scales(byte* s, byte* sub, out Vector512<float> mul, out Vector512<float> min);
    static abstract void Scales(byte* s, byte* sub, bool high, out Vector256<float> mul, out Vector256<float> min);
}

internal readonly unsafe struct Int8Format : IQuantFormat
{
    public static bool Int4 => false;
    public static int SuperBlockBytes(int group) => QuantLayout.Lanes * group;
    public static int ScaleBytes(int group) => 2 * QuantLayout.Lanes;
    public static int SubBytes => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* sb, int m, out Vector512<short> a, out Vector512<short> b)
    {
        var p = (sbyte*)sb + 64 * m;
        a = Avx512BW.ConvertToVector512Int16(Vector256.Load(p));
        b = Avx512BW.ConvertToVector512Int16(Vector256.Load(p + 32));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* sb, int m, out Vector256<short> a0, out Vector256<short> a1, out Vector256<short> b0, out Vector256<short> b1)
    {
        var p = (sbyte*)sb + 64 * m;
        a0 = Avx2.ConvertToVector256Int16(p);
        a1 = Avx2.ConvertToVector256Int16(p + 16);
        b0 = Avx2.ConvertToVector256Int16(p + 32);
        b1 = Avx2.ConvertToVector256Int16(p + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scales(byte* s, byte* sub, out Vector512<float> mul, out Vector512<float> min)
    {
        mul = F16Format.Widen(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)s)));
        min = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scales(byte* s, byte* sub, bool high, out Vector256<float> mul, out Vector256<float> min)
    {
        mul = F16Format.Widen(Avx2.ConvertToVector256Int32((ushort*)s + (high ? 8 : 0)).AsUInt32());
        min = default;
    }
}

internal readonly unsafe struct Int4Format : IQuantFormat
{
    public static bool Int4 => true;
    public static int SuperBlockBytes(int group) => QuantLayout.Lanes * group / 2;
    public static int ScaleBytes(int group) => 8;
    public static int SubBytes => QuantLayout.Int4SubBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* sb, int m, out Vector512<short> a, out Vector512<short> b)
    {
        var v = Avx512BW.ConvertToVector512Int16(Vector256.Load(sb + 32 * m)); // zero-extended bytes
        a = v & Vector512.Create((short)15);
        b = Vector512.ShiftRightLogical(v, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* sb, int m, out Vector256<short> a0, out Vector256<short> a1, out Vector256<short> b0, out Vector256<short> b1)
    {
        var p = sb + 32 * m;
        var lo = Avx2.ConvertToVector256Int16(p);
        var hi = Avx2.ConvertToVector256Int16(p + 16);
        var mask = Vector256.Create((short)15);
        a0 = lo & mask;
        a1 = hi & mask;
        b0 = Vector256.ShiftRightLogical(lo, 4);
        b1 = Vector256.ShiftRightLogical(hi, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scales(byte* s, byte* sub, out Vector512<float> mul, out Vector512<float> min)
    {
        mul = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(sub))) * ((float*)s)[0];
        min = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(sub + 16))) * ((float*)s)[1];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scales(byte* s, byte* sub, bool high, out Vector256<float> mul, out Vector256<float> min)
    {
        var o = high ? 8 : 0;
        mul = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(sub + o)) * ((float*)s)[0];
        min = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(sub + 16 + o)) * ((float*)s)[1];
    }
}

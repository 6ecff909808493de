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
/// stored in "quads" of 64: quad <c>k</c> (0 ≤ k &lt; G/4) holds, for each group j = 0..15, that group's columns
/// <c>4k..4k+3</c> at positions <c>4j..4j+3</c>. One <c>vpdpbusd</c> of a quad against the activations permuted the
/// same way therefore leaves group j's partial dot product in int32 lane j, so a whole super-block accumulates in
/// integer registers and is scaled once, with one vector of 16 group scales (llama.cpp's runtime repack plays the
/// same trick with interleaved rows). The int16 kernels (no VNNI) widen half a quad (groups 0–7 or 8–15) at a time
/// and <c>vpmaddwd</c> leaves a group's sum in two adjacent lanes, added pairwise once per super-block.
/// <para>int8: one signed byte per weight at its storage position; scales are f16 per group, relative to one f32
/// factor per row (so they stay in f16's normal range whatever the weight magnitude).</para>
/// <para>int4: a super-block is G/8 chunks of 64 bytes; chunk m holds quad 2m in the low nibbles and quad 2m+1 in
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
        return s * sb + (e >> 2) * 64 + 4 * j + (e & 3);
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
        var quad = pos >> 6;
        var b = row[(quad >> 1) * 64 + (pos & 63)];
        return (quad & 1) == 0 ? b & 15 : b >> 4;
    }
}

/// <summary>One quantized format as the int16 SIMD tiles read it: weights widened to int16 in quad halves, and the scales of a super-block.</summary>
internal unsafe interface IQuantFormat
{
    static abstract bool Int4 { get; }
    /// <summary>
    /// Chunk <paramref name="m"/> (quads 2m and 2m + 1) of the super-block at <paramref name="sb"/> widened: a0/b0 the
    /// first quad's halves (groups 0–7, 8–15), a1/b1 the second's; each pairs with the same 32 activation slots.
    /// </summary>
    static abstract void Load(byte* sb, int m, out Vector512<short> a0, out Vector512<short> b0, out Vector512<short> a1, out Vector512<short> b1);
    /// <summary>Quarter <paramref name="q"/> (groups 4q..4q+3) of quad <paramref name="k"/>, widened.</summary>
    static abstract Vector256<short> Load(byte* sb, int k, int q);
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
    public static void Load(byte* sb, int m, out Vector512<short> a0, out Vector512<short> b0, out Vector512<short> a1, out Vector512<short> b1)
    {
        var p = (sbyte*)sb + 128 * m;
        a0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(p));
        b0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(p + 32));
        a1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(p + 64));
        b1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(p + 96));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Load(byte* sb, int k, int q) => Avx2.ConvertToVector256Int16((sbyte*)sb + 64 * k + 16 * q);

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
    public static void Load(byte* sb, int m, out Vector512<short> a0, out Vector512<short> b0, out Vector512<short> a1, out Vector512<short> b1)
    {
        var p = sb + 64 * m;
        var lo = Avx512BW.ConvertToVector512Int16(Vector256.Load(p)); // zero-extended bytes
        var hi = Avx512BW.ConvertToVector512Int16(Vector256.Load(p + 32));
        var mask = Vector512.Create((short)15);
        a0 = lo & mask;
        b0 = hi & mask;
        a1 = Vector512.ShiftRightLogical(lo, 4);
        b1 = Vector512.ShiftRightLogical(hi, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Load(byte* sb, int k, int q)
    {
        var v = Avx2.ConvertToVector256Int16(sb + 64 * (k >> 1) + 16 * q);
        return (k & 1) == 0 ? v & Vector256.Create((short)15) : Vector256.ShiftRightLogical(v, 4);
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

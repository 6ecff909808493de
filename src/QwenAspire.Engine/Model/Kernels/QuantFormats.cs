using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// How one row of quantized weights is packed. Loads take element <c>i</c> (a multiple of 32 for 512-bit, of
/// 16 for 256-bit loads) and return 2·lanes signed values, unscaled; the group scale is applied by the caller.
/// </summary>
internal unsafe interface IQuantFormat
{
    /// <summary>Bytes of one packed row of <paramref name="inF"/> weights.</summary>
    static abstract long RowBytes(long inF);
    static abstract void Load(byte* row, int i, out Vector512<float> lo, out Vector512<float> hi);
    static abstract void Load(byte* row, int i, out Vector256<float> lo, out Vector256<float> hi);
    static abstract int Value(byte* row, int i);
}

/// <summary>int8: one signed byte per weight, in column order.</summary>
internal readonly unsafe struct Int8Format : IQuantFormat
{
    public static long RowBytes(long inF) => inF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* row, int i, out Vector512<float> lo, out Vector512<float> hi)
    {
        var p = (sbyte*)row + i;
        if (Avx512F.IsSupported)
        {
            // vpmovsxbd straight from memory, then one convert: 16 weights per instruction pair.
            lo = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(p)));
            hi = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(p + 16)));
            return;
        }
        lo = Vector512.Create(Widen256(p), Widen256(p + 8));
        hi = Vector512.Create(Widen256(p + 16), Widen256(p + 24));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* row, int i, out Vector256<float> lo, out Vector256<float> hi)
    {
        var p = (sbyte*)row + i;
        lo = Widen256(p);
        hi = Widen256(p + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen256(sbyte* p)
    {
        if (Avx2.IsSupported) return Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p));
        return Vector256.Create((float)p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
    }

    public static int Value(byte* row, int i) => ((sbyte*)row)[i];
}

/// <summary>
/// int4: 32 weights in 16 bytes, byte j holding weight j in its low nibble and weight j + 16 in its high nibble,
/// each stored as value + 8 (values −8..7). A 512-bit load widens the 16 bytes once and splits the nibbles.
/// </summary>
internal readonly unsafe struct Int4Format : IQuantFormat
{
    public static long RowBytes(long inF) => inF / 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* row, int i, out Vector512<float> lo, out Vector512<float> hi)
    {
        var p = row + (i >> 1);
        if (Avx512F.IsSupported)
        {
            var v = Avx512F.ConvertToVector512Int32(Vector128.Load(p)); // zero-extended bytes
            var eight = Vector512.Create(8);
            lo = Avx512F.ConvertToVector512Single((v & Vector512.Create(15)) - eight);
            hi = Avx512F.ConvertToVector512Single(Vector512.ShiftRightLogical(v, 4) - eight);
            return;
        }
        Load(row, i, out Vector256<float> a, out Vector256<float> b);
        Load(row, i + 16, out Vector256<float> c, out Vector256<float> d);
        lo = Vector512.Create(a, b);
        hi = Vector512.Create(c, d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* row, int i, out Vector256<float> lo, out Vector256<float> hi)
    {
        // Elements i..i+15 are the low (i % 32 == 0) or high (i % 32 == 16) nibbles of the unit's 16 bytes.
        var unit = row + ((i >> 5) << 4);
        var shift = (byte)((i & 16) >> 2);
        lo = Nibbles(unit, shift);
        hi = Nibbles(unit + 8, shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Nibbles(byte* p, byte shift)
    {
        Vector256<int> v;
        if (Avx2.IsSupported) v = Avx2.ConvertToVector256Int32(p);
        else v = Vector256.Create(p[0], p[1], p[2], p[3], p[4], p[5], p[6], (int)p[7]);
        var n = (Vector256.ShiftRightLogical(v, shift) & Vector256.Create(15)) - Vector256.Create(8);
        return Vector256.ConvertToSingle(n);
    }

    public static int Value(byte* row, int i)
    {
        var b = row[((i >> 5) << 4) + (i & 15)];
        return ((i & 16) == 0 ? b & 15 : b >> 4) - 8;
    }
}

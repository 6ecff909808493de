using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// The prefill path's block dequantizer: rows of a packed weight to f32 or bf16 in <em>storage</em> order (the
/// caller permutes the activations' columns the same way, <see cref="QuantLayout.Position"/>), so every quad of 64
/// weights is one contiguous vector pass with a per-super-block vector of expanded scales.
/// </summary>
internal static unsafe class DequantBlocks
{
    /// <summary>
    /// Rows [0, rows) of the weight at <paramref name="q"/> → w (rows, padded) in storage order; bf16 when
    /// <paramref name="bf16"/> (round to nearest even), else f32.
    /// </summary>
    public static void DequantizeRows(byte* q, byte* scales, byte* sub, float* rowFactors, int rows, int inF, int group, bool int4, void* w, bool bf16)
    {
        var padded = QuantLayout.PaddedWidth(inF, group);
        var superBlocks = padded / QuantLayout.SuperBlock(group);
        var rowBytes = QuantLayout.RowBytes(inF, group, int4);
        var scaleBytes = QuantLayout.ScaleBytes(inF, group, int4);
        var subBytes = QuantLayout.SubBytes(inF, group, int4);
        var mul = stackalloc float[64];
        var min = stackalloc float[64];
        var tmp = stackalloc float[64];
        for (var r = 0; r < rows; r++)
        {
            var row = q + r * rowBytes;
            var s = scales + r * scaleBytes;
            var u = sub + r * subBytes;
            var rf = rowFactors[r];
            for (var b = 0; b < superBlocks; b++)
            {
                // Lane j's scale covers slots 4j..4j+3 of every quad.
                for (var j = 0; j < QuantLayout.Lanes; j++)
                {
                    float m, n;
                    if (int4)
                    {
                        var d = (float*)s + 2 * b;
                        m = d[0] * u[b * QuantLayout.Int4SubBytes + j] * rf;
                        n = d[1] * u[b * QuantLayout.Int4SubBytes + 16 + j] * rf;
                    }
                    else
                    {
                        m = (float)BitConverter.UInt16BitsToHalf(((ushort*)s)[b * QuantLayout.Lanes + j]) * rf;
                        n = 0;
                    }
                    mul[4 * j] = mul[4 * j + 1] = mul[4 * j + 2] = mul[4 * j + 3] = m;
                    min[4 * j] = min[4 * j + 1] = min[4 * j + 2] = min[4 * j + 3] = n;
                }
                var quads = group / 4;
                var dst = (long)r * padded + (long)b * QuantLayout.SuperBlock(group);
                for (var k = 0; k < quads; k++)
                {
                    if (int4)
                    {
                        var chunk = row + (long)b * QuantLayout.SuperBlock(group) / 2 + (k >> 1) * 64;
                        Nibbles(chunk, (k & 1) * 4, mul, min, tmp);
                    }
                    else
                    {
                        Bytes((sbyte*)row + (long)b * QuantLayout.SuperBlock(group) + k * 64, mul, tmp);
                    }
                    if (bf16) ToBf16(tmp, (ushort*)w + dst + k * 64);
                    else Unsafe.CopyBlock((float*)w + dst + k * 64, tmp, 256);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Bytes(sbyte* p, float* mul, float* o)
    {
        for (var h = 0; h < 64; h += 8)
            (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p + h)) * Vector256.Load(mul + h)).Store(o + h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Nibbles(byte* p, int shift, float* mul, float* min, float* o)
    {
        for (var h = 0; h < 64; h += 8)
        {
            var v = Vector256.ShiftRightLogical(Avx2.ConvertToVector256Int32(p + h), shift) & Vector256.Create(15);
            Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(v), Vector256.Load(mul + h), -Vector256.Load(min + h)).Store(o + h);
        }
    }

    /// <summary>64 f32 → bf16, round to nearest even (weights are finite).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ToBf16(float* f, ushort* o)
    {
        for (var i = 0; i < 64; i += 16)
        {
            var a = Vector256.Load((uint*)f + i);
            var b = Vector256.Load((uint*)f + i + 8);
            Vector256.Narrow(Round(a), Round(b)).Store(o + i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Round(Vector256<uint> bits) =>
        Vector256.ShiftRightLogical(bits + Vector256.Create(0x7fffu) + (Vector256.ShiftRightLogical(bits, 16) & Vector256.Create(1u)), 16);
}

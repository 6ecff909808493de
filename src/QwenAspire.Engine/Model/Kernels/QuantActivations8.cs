using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// f32 activation rows → int8 per group (scale max|x| / 127 per <c>G</c> columns, as llama.cpp's Q8_0 activations),
/// in the order the VNNI micro-kernels read (<see cref="VnniGemv"/>): rows in blocks of four; per super-block, per
/// unit (an int8 quad of 64 slots, or an int4 chunk of two quads), the block's four rows in turn. Beside them, per
/// block and super-block, the rows' 16 group scales and 16 corrections: int8 −128·Σq (the kernels add 128 to the
/// weights to make them unsigned), int4 scale·Σq (what the group minimum multiplies).
/// </summary>
internal static unsafe class QuantActivations8
{
    public const float Range = 127f;

    /// <summary>Bytes of the packed activations of <paramref name="rows"/> rows.</summary>
    public static long PackedBytes(int rows, int inF, int group) => (long)Blocks(rows) * 4 * QuantLayout.PaddedWidth(inF, group);

    /// <summary>Bytes of the group scales and corrections of <paramref name="rows"/> rows.</summary>
    public static long GroupBytes(int rows, int inF, int group) => (long)Blocks(rows) * QuantLayout.SuperBlocks(inF, group) * 512;

    public static int Blocks(int rows) => (rows + 3) / 4;

    /// <summary>
    /// x (rows, inF) f32 → xq (<see cref="PackedBytes"/>) and g (<see cref="GroupBytes"/>), both 64-byte aligned.
    /// Padding columns and the absent rows of the last block are 0.
    /// </summary>
    public static void Quantize(float* x, int rows, int inF, int group, bool int4, sbyte* xq, byte* g)
    {
        var superBlocks = QuantLayout.SuperBlocks(inF, group);
        var sb = QuantLayout.SuperBlock(group);
        var unit = int4 ? 128 : 64;
        var blocks = Blocks(rows);
        new Span<byte>(xq, checked((int)PackedBytes(rows, inF, group))).Clear();
        new Span<byte>(g, checked((int)GroupBytes(rows, inF, group))).Clear();
        for (var t = 0; t < rows; t++)
        {
            var xr = x + (long)t * inF;
            var (b, lane) = (t / 4, t % 4);
            for (var s = 0; s < superBlocks; s++)
            {
                var sbBase = xq + ((long)b * superBlocks + s) * 4 * sb;
                var gBase = g + ((long)b * superBlocks + s) * 512;
                for (var j = 0; j < QuantLayout.Lanes; j++)
                {
                    var c0 = s * sb + j * group;
                    if (c0 >= inF) break;
                    var n = Math.Min(group, inF - c0);
                    var amax = MaxAbs(xr + c0, n);
                    var inv = amax > 0 ? Range / amax : 0f;
                    var sum = 0;
                    var e = 0;
                    if (Avx512F.IsSupported && n == group)
                    {
                        // 16 columns at a time: round, saturate to int8 (|x·inv| ≤ 127 by construction), then each
                        // 4-column piece to its quad's slot.
                        var sums = Vector512<int>.Zero;
                        for (; e + 16 <= group; e += 16)
                        {
                            var v = Vector512.ConvertToInt32(Vector512.Round(Vector512.Load(xr + c0 + e) * inv));
                            v = Vector512.Clamp(v, Vector512.Create(-127), Vector512.Create(127));
                            sums += v;
                            var bytes = Avx512F.ConvertToVector128SByteWithSaturation(v).AsUInt32();
                            for (var p = 0; p < 4; p++) *(uint*)(sbBase + Offset(e + 4 * p, j, int4, unit, lane)) = bytes.GetElement(p);
                        }
                        sum = Vector512.Sum(sums);
                    }
                    for (; e < group; e += 4)
                    {
                        Vector128<int> v;
                        if (e + 4 <= n)
                        {
                            var r = Vector128.Round(Vector128.Load(xr + c0 + e) * inv);
                            v = Vector128.Clamp(Vector128.ConvertToInt32(r), Vector128.Create(-127), Vector128.Create(127));
                        }
                        else
                        {
                            v = Vector128.Create(Column(xr, c0 + e, n - e, inv), Column(xr, c0 + e + 1, n - e - 1, inv),
                                Column(xr, c0 + e + 2, n - e - 2, inv), Column(xr, c0 + e + 3, n - e - 3, inv));
                        }
                        sum += Vector128.Sum(v);
                        var bytes = (uint)(byte)v[0] | (uint)(byte)v[1] << 8 | (uint)(byte)v[2] << 16 | (uint)(byte)v[3] << 24;
                        *(uint*)(sbBase + Offset(e, j, int4, unit, lane)) = bytes;
                    }
                    var scale = amax / Range;
                    ((float*)gBase)[lane * 16 + j] = scale;
                    if (int4) ((float*)gBase)[64 + lane * 16 + j] = scale * sum;
                    else ((int*)gBase)[64 + lane * 16 + j] = -128 * sum;
                }
            }
        }
    }

    /// <summary>
    /// Byte offset in a super-block's packed activations of columns e..e+3 (e a multiple of 4) of group j for block
    /// row <paramref name="lane"/>: they sit in quad e / 4 at slots 4j..4j+3; a unit is one quad (int8) or two (int4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Offset(int e, int j, bool int4, int unit, int lane)
    {
        var quad = e >> 2;
        var u = int4 ? quad >> 1 : quad;
        return (long)u * 4 * unit + lane * unit + (int4 ? (quad & 1) * 64 : 0) + 4 * j;
    }

    /// <summary>Column c's int8 value, or 0 past the row (<paramref name="left"/> ≤ 0).</summary>
    private static int Column(float* xr, int c, int left, float inv) => left > 0 ? Math.Clamp((int)MathF.Round(xr[c] * inv), -127, 127) : 0;

    private static float MaxAbs(float* x, int n)
    {
        var i = 0;
        var m = Vector256<float>.Zero;
        for (; i + 8 <= n; i += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + i)));
        var amax = 0f;
        for (var k = 0; k < 8; k++) amax = MathF.Max(amax, m[k]);
        for (; i < n; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        return amax;
    }
}

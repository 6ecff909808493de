using QwenAspire.Engine.Model.Kernels;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>The int8/int4 SIMD GEMV (both widths, 1–16 rows, split across threads) against the scalar f64 reference.</summary>
public sealed class QuantGemvTests
{
    public static TheoryData<int, int, int, int, bool, int, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, bool, int, int>();
        var random = new Random(11);
        var cases = from int4 in new[] { false, true }
                    from width in new[] { GemvWidth.V256, GemvWidth.V512 }
                    from rows in new[] { 1, 2, 3, 5, 16 }
                    select (int4, width, rows);
        foreach (var (int4, width, rows) in cases)
        {
            // Odd output counts exercise the 4-row block tails; two group sizes, one and several groups per row.
            data.Add(rows, random.Next(1, 40), 32, 32, int4, (int)width, 1);
            data.Add(rows, 4 * random.Next(40, 80) + 3, 64 * random.Next(2, 6), 64, int4, (int)width, 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ComputeMatchesTheScalarReference(int rows, int outF, int inF, int group, bool int4, int width, int threads)
    {
        var random = new Random(rows * 1000 + outF + inF + (int4 ? 7 : 0));
        var x = Enumerable.Range(0, rows * inF).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var q = new byte[outF * (int4 ? inF / 2 : inF)];
        random.NextBytes(q);
        if (!int4)
        {
            // int8 weights are −127..127 (the quantizer never writes −128).
            for (var i = 0; i < q.Length; i++) if (q[i] == 0x80) q[i] = 0x81;
        }
        var scales = Enumerable.Range(0, outF * (inF / group)).Select(_ => (float)((random.NextDouble() - 0.3) * 0.02)).ToArray();
        var y = new float[rows * outF];
        QuantGemv.Compute(x, rows, q, scales, group, outF, inF, y, int4, threads, (GemvWidth)width);
        var expected = QuantReference.Compute(x, rows, q, scales, group, outF, inF, int4);
        var magnitudes = QuantReference.Compute(x.Select(Math.Abs).ToArray(), rows, Abs(q, int4), scales.Select(Math.Abs).ToArray(), group, outF, inF, int4);
        for (var k = 0; k < y.Length; k++)
        {
            // f32 products and accumulation: error grows at most like inF · ε · Σ|terms|.
            Assert.True(Math.Abs(y[k] - expected[k]) <= 1e-7 + inF * 6e-8 * magnitudes[k],
                $"y[{k / outF}, {k % outF}] = {y[k]}, expected {expected[k]} (rows {rows}, {outF}x{inF}, group {group}, int4 {int4}, {(GemvWidth)width})");
        }
    }

    [Fact]
    public void RejectsGroupsThatDoNotTileTheRow()
    {
        var x = new float[64];
        var y = new float[1];
        Assert.Throws<ArgumentException>(() => QuantGemv.Compute(x, 1, new byte[64], new float[4], 16, 1, 64, y, int4: false, threads: 1));
        Assert.Throws<ArgumentException>(() => QuantGemv.Compute(x, 1, new byte[64], new float[4], 48, 1, 64, y, int4: false, threads: 1));
        Assert.Throws<ArgumentException>(() => QuantGemv.Compute(x, 1, new byte[10], new float[2], 32, 1, 64, y, int4: false, threads: 1));
    }

    [Fact]
    public void Int4NibblesFollowTheDocumentedLayout()
    {
        // One 32-weight unit: byte j = (w_j + 8) | (w_{j+16} + 8) << 4.
        var q = Enumerable.Range(0, 16).Select(j => (byte)((j & 15) | ((15 - j) << 4))).ToArray();
        // 32 one-hot x rows pick out each weight in turn.
        var xs = new float[32 * 32];
        for (var i = 0; i < 32; i++) xs[i * 32 + i] = 1f;
        var ys = new float[32];
        QuantGemv.Compute(xs, 32, q, [1f], 32, 1, 32, ys, int4: true, threads: 1);
        for (var i = 0; i < 32; i++) Assert.Equal(i < 16 ? i - 8 : (15 - (i - 16)) - 8, ys[i]);
    }

    /// <summary>|q| in the same packing, so the reference computes Σ|s·q·x| for the error bound.</summary>
    private static byte[] Abs(byte[] q, bool int4)
    {
        if (!int4) return [.. q.Select(b => (byte)Math.Abs((int)(sbyte)b))];
        // |v| for v = nibble − 8 is ≤ 8, stored as |v| + 8 ≤ 16: clamp to 15 (the bound loosens by at most 1/8).
        return [.. q.Select(b => (byte)(AbsNibble(b & 15) | (AbsNibble(b / 16) * 16)))];
    }

    private static int AbsNibble(int stored) => Math.Min(15, Math.Abs(stored - 8) + 8);
}

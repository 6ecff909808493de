using QwenAspire.Engine.Model.Kernels;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>
/// The int8/int4 integer SIMD GEMV (AVX512-VNNI emitted code, AVX-512BW and AVX2, 1–16 rows, split across threads,
/// padded last super-block) against the scalar f64 reference over the same packed layout and the same quantized
/// activations (int8 per group for VNNI, int16 per row otherwise), and the VNNI path against the float product.
/// </summary>
public sealed unsafe class QuantGemvTests
{
    public static TheoryData<int, int, int, int, bool, int, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, bool, int, int>();
        var random = new Random(11);
        var cases = from int4 in new[] { false, true }
                    from width in new[] { GemvWidth.V256, GemvWidth.V512, GemvWidth.Vnni }
                    from rows in new[] { 1, 2, 3, 5, 16 }
                    select (int4, width, rows);
        foreach (var (int4, width, rows) in cases)
        {
            // Odd output counts exercise the 4-row tile tails; a width below one super-block (padding), several
            // super-blocks with a padded last one, and a 64-wide group.
            data.Add(rows, random.Next(1, 40), 32 * random.Next(1, 8), 32, int4, (int)width, 1);
            data.Add(rows, 4 * random.Next(40, 80) + 3, 512 * random.Next(1, 3) + 96, 32, int4, (int)width, 2);
            data.Add(rows, 37, 1024 + 128, 64, int4, (int)width, 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ComputeMatchesTheScalarReference(int rows, int outF, int inF, int group, bool int4, int width, int threads)
    {
        if ((GemvWidth)width == GemvWidth.V512 && !System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) return; // nothing to compare on this CPU
        if ((GemvWidth)width == GemvWidth.Vnni && !VnniGemv.Available) return;
        var random = new Random(rows * 1000 + outF + inF + (int4 ? 7 : 0));
        var w = RandomWeight(random, outF, inF, group, int4);
        var x = Enumerable.Range(0, rows * inF).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        x[0] = 3f; // one outlier sets the row's int16 scale
        var y = new float[rows * outF];
        QuantGemv.Compute(x, rows, w.Q, w.Scales, w.Sub, w.Factors, group, outF, inF, y, int4, threads, (GemvWidth)width);
        var expected = (GemvWidth)width == GemvWidth.Vnni
            ? QuantReference.ComputeInt8Activations(x, rows, w.Q, w.Scales, w.Sub, w.Factors, group, outF, inF, int4)
            : QuantReference.Compute(x, rows, w.Q, w.Scales, w.Sub, w.Factors, group, outF, inF, int4);
        var magnitudes = Magnitudes(x, rows, w, group, outF, inF, int4);
        for (var k = 0; k < y.Length; k++)
        {
            // Integer sums are exact; the f32 converts, scale FMAs and final sum add ~1e-7 relative per term.
            Assert.True(Math.Abs(y[k] - expected[k]) <= 1e-9 + 2e-6 * magnitudes[k],
                $"y[{k / outF}, {k % outF}] = {y[k]}, expected {expected[k]} (rows {rows}, {outF}x{inF}, group {group}, int4 {int4}, {(GemvWidth)width})");
        }
    }

    [Theory]
    [InlineData(false, 11, 1024 + 96)]
    [InlineData(true, 11, 1024 + 96)]
    [InlineData(false, 263, 4096)] // a prompt: 66 blocks of 4 rows in chunks of 16 (activations kept in L2)
    [InlineData(true, 263, 4096)]
    public void VnniRowsDoNotDependOnTheirStepAndStayWithinTheActivationRounding(bool int4, int rows, int inF)
    {
        // Where the CPU and OS can run the emitted code it must be loaded (a silent fallback would hide the kernel).
        var runnable = CpuFeatures.Avx512Vnni && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64
            && (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()) && Environment.GetEnvironmentVariable("QWENASPIRE_VNNI") != "0";
        Assert.Equal(runnable, VnniGemv.Available);
        if (!VnniGemv.Available) return; // nothing to compare on this CPU
        const int OutF = 70, Group = 32;
        var (Rows, InF) = (rows, inF);
        var random = new Random(int4 ? 5 : 6);
        var w = RandomWeight(random, OutF, InF, Group, int4);
        var x = Enumerable.Range(0, Rows * InF).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        for (var t = 0; t < Rows; t++) x[t * InF + 7 * t] = 40f; // an outlier channel per row: per-group scales keep the rest
        var batch = new float[Rows * OutF];
        QuantGemv.Compute(x, Rows, w.Q, w.Scales, w.Sub, w.Factors, Group, OutF, InF, batch, int4, threads: 2, GemvWidth.Vnni);
        var checkedRows = Math.Min(Rows, 12);
        var magnitudes = Magnitudes(x, checkedRows, w, Group, OutF, InF, int4);
        for (var t = 0; t < Rows; t++)
        {
            var alone = new float[OutF];
            QuantGemv.Compute(x.AsSpan(t * InF, InF), 1, w.Q, w.Scales, w.Sub, w.Factors, Group, OutF, InF, alone, int4, threads: 1, GemvWidth.Vnni);
            for (var o = 0; o < OutF; o++)
            {
                Assert.Equal(alone[o], batch[t * OutF + o]); // bit for bit
                if (t >= checkedRows) continue;
                // The float product: each activation moves by at most half a step of its group (max|x| / 254), so
                // |error| <= Σ |w|·|x|/254 per group; the bound below uses the whole-row magnitude, a tenth of that.
                double exact = 0;
                for (var c = 0; c < InF; c++)
                {
                    fixed (byte* qp = w.Q)
                    fixed (byte* sp = w.Scales)
                    fixed (byte* up = w.Sub)
                    fixed (float* fp = w.Factors)
                    {
                        exact += QuantReference.Weight(qp, sp, up, fp, o, c, InF, Group, int4) * x[t * InF + c];
                    }
                }
                Assert.True(Math.Abs(alone[o] - exact) <= 0.02 * magnitudes[t * OutF + o] + 1e-6,
                    $"row {t}, output {o}: {alone[o]} vs float {exact} (magnitude {magnitudes[t * OutF + o]})");
            }
        }
    }

    [Fact]
    public void RejectsGroupsThatAreNotMultiplesOf32AndShortSpans()
    {
        var x = new float[64];
        var y = new float[1];
        Assert.Throws<ArgumentException>(() => QuantGemv.Compute(x, 1, new byte[512], new byte[64], [], new float[1], 16, 1, 64, y, int4: false, threads: 1));
        Assert.Throws<ArgumentException>(() => QuantGemv.Compute(x, 1, new byte[512], new byte[64], [], new float[1], 48, 1, 64, y, int4: false, threads: 1));
        Assert.Throws<ArgumentException>(() => QuantGemv.Compute(x, 1, new byte[100], new byte[32], [], new float[1], 32, 1, 64, y, int4: false, threads: 1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StorageFollowsTheDocumentedLayout(bool int4)
    {
        // One super-block of 16 groups × 32 columns, every weight distinct, written by the layout's own words:
        // column c = 32j + e sits in quad e / 4 at slot 4j + e % 4; int4 quad k is chunk k / 2, nibble k % 2.
        const int InF = 512, Group = 32;
        var q = new byte[int4 ? InF / 2 : InF];
        for (var c = 0; c < InF; c++)
        {
            int j = c / Group, e = c % Group, k = e / 4, slot = 4 * j + e % 4;
            var value = int4 ? (c * 7 + c / 16) % 16 : (c % 255) - 127;
            if (int4) q[k / 2 * 64 + slot] |= (byte)(value << (k % 2 * 4));
            else q[k * 64 + slot] = (byte)(sbyte)value;
        }
        // Unit scales: int8 f16 1.0 per group; int4 d = 1, dmin = 0.5, sub-scale 1, sub-min 2 (weight = q − 1).
        var scales = int4 ? [.. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(0.5f)] : Enumerable.Range(0, 16).SelectMany(_ => BitConverter.GetBytes((Half)1)).ToArray();
        var sub = int4 ? [.. Enumerable.Repeat((byte)1, 16), .. Enumerable.Repeat((byte)2, 16)] : Array.Empty<byte>();
        // One-hot x rows pick out each weight in turn (x = 1 quantizes to 32767 with scale 1 / 32767).
        var xs = new float[InF * InF];
        for (var i = 0; i < InF; i++) xs[i * InF + i] = 1f;
        var ys = new float[InF];
        QuantGemv.Compute(xs, InF, q, scales, sub, [1f], Group, 1, InF, ys, int4, threads: 1);
        for (var c = 0; c < InF; c++)
        {
            var expected = int4 ? (c * 7 + c / 16) % 16 - 1 : (c % 255) - 127;
            Assert.Equal(expected, ys[c], 4);
        }
    }

    internal sealed record Packed(byte[] Q, byte[] Scales, byte[] Sub, float[] Factors);

    /// <summary>Random packed weights: int8 −127..127 (the quantizer never writes −128) with f16 group scales; int4 any nibbles, d/dmin and sub-scales.</summary>
    internal static Packed RandomWeight(Random random, int outF, int inF, int group, bool int4)
    {
        var q = new byte[outF * QuantLayout.RowBytes(inF, group, int4)];
        random.NextBytes(q);
        if (!int4)
        {
            for (var i = 0; i < q.Length; i++) if (q[i] == 0x80) q[i] = 0x81;
        }
        var scales = new byte[outF * QuantLayout.ScaleBytes(inF, group, int4)];
        if (int4)
        {
            for (var i = 0; i < scales.Length / 4; i++) BitConverter.TryWriteBytes(scales.AsSpan(4 * i), (float)(random.NextDouble() * 1e-3));
        }
        else
        {
            for (var i = 0; i < scales.Length / 2; i++) BitConverter.TryWriteBytes(scales.AsSpan(2 * i), (Half)(random.NextDouble() * 0.9 + 0.1));
        }
        var sub = new byte[outF * QuantLayout.SubBytes(inF, group, int4)];
        random.NextBytes(sub);
        var factors = Enumerable.Range(0, outF).Select(_ => (float)(random.NextDouble() * 0.01)).ToArray();
        return new Packed(q, scales, sub, factors);
    }

    /// <summary>Σ |terms| of each output in the reference's own decomposition, for the error bound.</summary>
    private static double[] Magnitudes(float[] x, int rows, Packed w, int group, int outF, int inF, bool int4)
    {
        var m = new double[rows * outF];
        for (var t = 0; t < rows; t++)
            for (var o = 0; o < outF; o++)
            {
                double sum = 0;
                for (var c = 0; c < inF; c++)
                {
                    var (mul, min) = QuantReference.GroupScale(w.Scales, w.Sub, w.Factors, o, c / group, inF, group, int4);
                    var v = QuantReference.Value(w.Q, o, c, inF, group, int4);
                    sum += (Math.Abs(mul * v) + Math.Abs(min)) * Math.Abs(x[t * inF + c]);
                }
                m[t * outF + o] = sum;
            }
        return m;
    }
}

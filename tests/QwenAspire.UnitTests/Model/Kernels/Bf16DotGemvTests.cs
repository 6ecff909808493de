using QwenAspire.Engine.Model.Kernels;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>
/// The AVX512-BF16 GEMV (emitted machine code) against double-precision references: over the bf16-rounded
/// activations it is an f32-accumulated dot product; a row's result never depends on the other rows.
/// </summary>
public sealed class Bf16DotGemvTests
{
    [Fact]
    public void TheKernelLoadsExactlyWhereTheCpuHasAvx512Bf16()
    {
        // This machine kind has it; elsewhere the managed f32 kernels serve (and this says so).
        Assert.Equal(CpuFeatures.Avx512Bf16 && Environment.GetEnvironmentVariable("QWENASPIRE_BF16_DOT") != "0", Bf16DotGemv.Available);
        Assert.Contains(CpuFeatures.Avx512Bf16 ? "BF16" : "", CpuFeatures.Describe());
    }

    [Fact]
    public unsafe void PackingRoundsToNearestEvenLikeAScalarReference()
    {
        if (!Bf16DotGemv.Available) return; // nothing packs for this kernel here (the test above states why)
        var random = new Random(3);
        const int rows = 5, n = 64;
        var x = new float[rows * n];
        for (var i = 0; i < x.Length; i++)
        {
            // Exact ties (low 16 bits 0x8000) of both parities, and ordinary values.
            var bits = (uint)random.Next() & 0xbfffffff;
            x[i] = BitConverter.UInt32BitsToSingle(i % 3 == 0 ? (bits & 0xffff0000) | 0x8000 : bits);
        }
        var packed = new ushort[Bf16DotGemv.PackedLength(rows, n)];
        fixed (float* xp = x)
        fixed (ushort* pp = packed)
        {
            Bf16DotGemv.Pack(xp, rows, n, pp);
        }
        for (var b = 0; b < 2; b++)
            for (var s = 0; s < n / 32; s++)
                for (var t = 0; t < 4; t++)
                    for (var j = 0; j < 32; j++)
                    {
                        var row = 4 * b + t;
                        var got = packed[((b * (n / 32) + s) * 4 + t) * 32 + j];
                        Assert.Equal(row < rows ? ScalarBf16(x[row * n + s * 32 + j]) : (ushort)0, got);
                    }
    }

    [Theory]
    [InlineData(1, 4, 32, 1)]
    [InlineData(3, 8, 64, 1)]
    [InlineData(4, 36, 96, 2)]
    [InlineData(8, 64, 2048, 2)]
    [InlineData(13, 48, 320, 2)]
    public void MatchesADoublePrecisionReferenceOverTheRoundedActivations(int rows, int outF, int inF, int threads)
    {
        if (!Bf16DotGemv.Available) return;
        var random = new Random(rows * 31 + outF + inF);
        var x = Enumerable.Range(0, rows * inF).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, outF * inF).Select(_ => (ushort)(BitConverter.SingleToUInt32Bits((float)(random.NextDouble() * 2 - 1)) >> 16)).ToArray();
        var y = new float[rows * outF];
        ReducedGemv.Compute(x, rows, w, outF, inF, y, f16: false, threads, GemvWidth.Bf16Dot);
        for (var t = 0; t < rows; t++)
            for (var o = 0; o < outF; o++)
            {
                double rounded = 0, exact = 0, magnitude = 0;
                for (var i = 0; i < inF; i++)
                {
                    double wi = BitConverter.UInt32BitsToSingle((uint)w[o * inF + i] << 16), xi = x[t * inF + i];
                    rounded += wi * BitConverter.UInt32BitsToSingle((uint)ScalarBf16(x[t * inF + i]) << 16);
                    exact += wi * xi;
                    magnitude += Math.Abs(wi * xi);
                }
                var got = y[t * outF + o];
                // bf16 × bf16 products are exact in f32; only the f32 accumulation rounds.
                Assert.True(Math.Abs(got - rounded) <= 1e-6 + inF * 6e-8 * magnitude, $"y[{t}, {o}] = {got}, expected {rounded} over rounded x ({rows}x{outF}x{inF})");
                // Against unrounded x: each activation moved by at most half a bf16 ulp (2^-9 relative).
                Assert.True(Math.Abs(got - exact) <= 1e-6 + magnitude * (1.0 / 256), $"y[{t}, {o}] = {got}, exact {exact}");
            }
    }

    [Fact]
    public void ARowGetsTheSameBitsWhateverTheOtherRowsOfItsStep()
    {
        if (!Bf16DotGemv.Available) return;
        const int outF = 64, inF = 256;
        var random = new Random(11);
        var w = Enumerable.Range(0, outF * inF).Select(_ => (ushort)(BitConverter.SingleToUInt32Bits((float)(random.NextDouble() - 0.5)) >> 16)).ToArray();
        var row = Enumerable.Range(0, inF).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var alone = new float[outF];
        ReducedGemv.Compute(row, 1, w, outF, inF, alone, f16: false, threads: 1, GemvWidth.Bf16Dot);
        foreach (var (rows, at) in new[] { (2, 1), (4, 3), (7, 5), (9, 8), (16, 0) })
        {
            var x = Enumerable.Range(0, rows * inF).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            row.CopyTo(x, at * inF);
            var y = new float[rows * outF];
            ReducedGemv.Compute(x, rows, w, outF, inF, y, f16: false, threads: 2, GemvWidth.Bf16Dot);
            Assert.Equal(alone, y.AsSpan(at * outF, outF).ToArray());
        }
    }

    [Theory]
    [InlineData(150, 64, 2048)] // two L2 chunks of x (128 rows, then 22), two workers
    [InlineData(37, 20, 96)]
    public unsafe void ThePrefillGemmGivesEveryRowTheBitsOfThatRowDecodedAlone(int rows, int outF, int inF)
    {
        if (!Bf16DotGemv.Available) return;
        var random = new Random(rows + outF);
        var x = Enumerable.Range(0, rows * inF).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, outF * inF).Select(_ => (ushort)(BitConverter.SingleToUInt32Bits((float)(random.NextDouble() * 2 - 1)) >> 16)).ToArray();
        var y = new float[rows * outF];
        fixed (float* xp = x)
        fixed (ushort* wp = w)
        fixed (float* yp = y)
        {
            Bf16DotGemv.ProjectMany(xp, rows, wp, inF, outF, yp, threads: 2);
        }
        var alone = new float[outF];
        for (var t = 0; t < rows; t++)
        {
            ReducedGemv.Compute(x.AsSpan(t * inF, inF), 1, w, outF, inF, alone, f16: false, threads: 1, GemvWidth.Bf16Dot);
            Assert.Equal(alone, y.AsSpan(t * outF, outF).ToArray());
        }
        // And through a linear layer's prefill path (rows above KernelMaxRows).
        using var scope = TorchSharp.torch.NewDisposeScope();
        var weight = TorchSharp.torch.tensor(w.Select(v => BitConverter.UInt32BitsToSingle((uint)v << 16)).ToArray(), [outF, inF]).to(TorchSharp.torch.ScalarType.BFloat16); // exact
        var linear = new QwenAspire.Engine.Model.Qwen3Linear("t", weight, new QwenAspire.Engine.Model.LinearPolicy(KernelMaxRows: 16));
        Assert.True(((QwenAspire.Engine.Model.Weights.DenseWeight)linear.Weight).UsesBf16DotGemm(TorchSharp.torch.tensor(x, [rows, inF])));
        Assert.Equal(y, linear.Forward(TorchSharp.torch.tensor(x, [rows, inF])).data<float>().ToArray());
    }

    [Fact]
    public void ShapesThePathCannotTakeAreRefusedByName()
    {
        if (!Bf16DotGemv.Available) return;
        var ex = Assert.Throws<ArgumentException>(() => ReducedGemv.Compute(new float[40], 1, new ushort[160], 4, 40, new float[4], f16: false, threads: 1, GemvWidth.Bf16Dot));
        Assert.Contains("multiple of 32", ex.Message);
        // Auto takes the managed kernel for such shapes instead.
        var y = new float[4];
        ReducedGemv.Compute(Enumerable.Repeat(1f, 40).ToArray(), 1, Enumerable.Repeat((ushort)0x3f80, 160).ToArray(), 4, 40, y, f16: false, threads: 1);
        Assert.All(y, v => Assert.Equal(40f, v));
    }

    private static ushort ScalarBf16(float value)
    {
        var u = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
    }
}

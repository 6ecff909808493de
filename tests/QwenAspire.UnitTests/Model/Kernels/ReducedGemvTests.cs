using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Kernels;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>The SIMD GEMV against a double-precision reference over the exactly widened weights.</summary>
public sealed class ReducedGemvTests
{
    public static TheoryData<int, int, int, bool, int, int> Cases()
    {
        var data = new TheoryData<int, int, int, bool, int, int>();
        var random = new Random(7);
        var cases = from f16 in new[] { false, true }
                    from width in new[] { GemvWidth.V256, GemvWidth.V512 }
                    from rows in new[] { 1, 2, 3, 5, 8 }
                    select (f16, width, rows);
        foreach (var (f16, width, rows) in cases)
        {
            // Odd sizes exercise the scalar tails of both the inner dimension and the 4-row output blocks.
            data.Add(rows, random.Next(1, 80), random.Next(1, 300), f16, (int)width, 1);
            data.Add(rows, 67 + 64 * random.Next(0, 4), 4 * random.Next(300, 600) + 3, f16, (int)width, 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ComputeMatchesADoublePrecisionReference(int rows, int outF, int inF, bool f16, int width, int threads)
    {
        var random = new Random(rows * 1000 + outF + inF);
        var x = Enumerable.Range(0, rows * inF).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, outF * inF).Select(_ => RandomWeight(random, f16)).ToArray();
        var y = new float[rows * outF];
        ReducedGemv.Compute(x, rows, w, outF, inF, y, f16, threads, (GemvWidth)width);
        for (var k = 0; k < rows * outF; k++)
        {
            int t = k / outF, o = k % outF;
            double expected = 0, magnitude = 0;
            for (var i = 0; i < inF; i++)
            {
                var wi = f16 ? (double)BitConverter.UInt16BitsToHalf(w[o * inF + i]) : BitConverter.UInt32BitsToSingle((uint)w[o * inF + i] << 16);
                expected += wi * x[t * inF + i];
                magnitude += Math.Abs(wi * x[t * inF + i]);
            }
            // f32 accumulation: error grows at most like inF · ε · Σ|terms|.
            Assert.True(Math.Abs(y[t * outF + o] - expected) <= 1e-6 + inF * 6e-8 * magnitude,
                $"y[{t}, {o}] = {y[t * outF + o]}, expected {expected} (rows {rows}, {outF}x{inF}, f16 {f16}, {width})");
        }
    }

    [Fact]
    public void HalfWidensExactlyIncludingSubnormalsAndSpecials()
    {
        ushort[] raw = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xbc00, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8001, 0x5555];
        var x = new float[1] { 1f };
        var y = new float[raw.Length];
        // One weight row per value: inF = 1 goes through the scalar tail, so also check 16-wide vectors below.
        ReducedGemv.Compute(x, 1, raw, raw.Length, 1, y, f16: true, threads: 1, GemvWidth.V256);
        for (var i = 0; i < raw.Length; i++) Assert.Equal((float)BitConverter.UInt16BitsToHalf(raw[i]), y[i]);

        var ones = Enumerable.Repeat(1f, 32).ToArray();
        foreach (var width in new[] { GemvWidth.V256, GemvWidth.V512 })
        {
            for (var lane = 0; lane < 32; lane++)
            {
                // One non-zero weight per run puts each value through one lane of the vector path (0·inf would be NaN).
                var value = raw[lane % raw.Length];
                var wide = new ushort[32];
                wide[lane] = value;
                var single = new float[1];
                ReducedGemv.Compute(ones, 1, wide, 1, 32, single, f16: true, threads: 1, width);
                Assert.Equal((float)BitConverter.UInt16BitsToHalf(value), single[0]);
            }
        }
    }

    [Fact]
    public void LinearUsesTheKernelOnMappedViewsAndAgreesWithWidenedF32()
    {
        using var scope = NewDisposeScope();
        // A view with a storage offset, like the checkpoint's tensors (narrowed from one file mapping).
        var storage = randn(3 * 37 * 200).to(ScalarType.BFloat16);
        var weight = storage.narrow(0, 37 * 200, 37 * 200).view(37, 200);
        var x = randn(3, 200);
        var linear = new Qwen3Linear("test", weight.alias(), new LinearPolicy(KernelMaxRows: 8));
        Assert.True(ReducedGemv.Supported ? ReducedGemv.Accepts(x, ((QwenAspire.Engine.Model.Weights.DenseWeight)linear.Weight).Tensor) : true);
        var y = linear.Forward(x);
        var reference = x.to(ScalarType.Float64).matmul(weight.to(ScalarType.Float64).t());
        Assert.True(y.to(ScalarType.Float64).allclose(reference, rtol: 1e-5, atol: 1e-4));
    }

    private static ushort RandomWeight(Random random, bool f16)
    {
        var value = (random.NextDouble() * 2 - 1) * (random.Next(4) == 0 ? 1e-5 : 1.0); // some f16 subnormals
        return f16 ? BitConverter.HalfToUInt16Bits((Half)value) : (ushort)(BitConverter.SingleToUInt32Bits((float)value) >> 16);
    }
}

using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Kernels;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model;

/// <summary>The prefill paths of <see cref="Qwen3Linear"/> (blocked widening, chunked SIMD GEMV) against whole-weight widening.</summary>
public sealed class LinearPrefillPathTests
{
    [Theory]
    [InlineData(9, 300, 67, 64, false)]   // out not a multiple of the block: a 44-row tail
    [InlineData(13, 37, 200, 16, true)]
    [InlineData(31, 1000, 129, 256, false)]
    [InlineData(20, 257, 96, 256, true)]  // one full block and a one-row tail
    public void BlockedWideningMatchesWholeWeightWidening(int rows, int outF, int inF, int block, bool f16)
    {
        using var scope = NewDisposeScope();
        var dtype = f16 ? ScalarType.Float16 : ScalarType.BFloat16;
        var weight = randn(outF, inF).to(dtype);
        var x = randn(rows, inF);
        var blocked = new Qwen3Linear("blocked", weight.alias(), new LinearPolicy(WidenAboveRows: 8, KernelMaxRows: 0, WidenBlockRows: block));
        var whole = new Qwen3Linear("whole", weight.alias(), new LinearPolicy(WidenAboveRows: 0, KernelMaxRows: 0, WidenBlockRows: 0));
        AssertClose(whole.Forward(x), blocked.Forward(x), 1e-5);
    }

    [Theory]
    [InlineData(19, 300, 67, false)]  // two full chunks of 8 and a 3-row tail
    [InlineData(8, 41, 130, true)]
    [InlineData(25, 96, 515, false)]
    public void ChunkedKernelMatchesWholeWeightWidening(int rows, int outF, int inF, bool f16)
    {
        using var scope = NewDisposeScope();
        var dtype = f16 ? ScalarType.Float16 : ScalarType.BFloat16;
        var weight = randn(outF, inF).to(dtype);
        var x = randn(rows, inF);
        var chunked = new Qwen3Linear("chunked", weight.alias(), new LinearPolicy(WidenAboveRows: 8, KernelMaxRows: 8, WidenBlockRows: 0, KernelChunkMaxRows: 64));
        var whole = new Qwen3Linear("whole", weight.alias(), new LinearPolicy(WidenAboveRows: 0, KernelMaxRows: 0, WidenBlockRows: 0));
        // Without a SIMD path the chunked policy falls back to widening, which must agree all the same.
        AssertClose(whole.Forward(x), chunked.Forward(x), 1e-5);
    }

    [Fact]
    public void BlockedWideningKeepsTheLoraDelta()
    {
        using var scope = NewDisposeScope();
        var weight = randn(70, 40).to(ScalarType.BFloat16);
        var x = randn(12, 40);
        var (a, b) = (randn(4, 40), randn(70, 4));
        var blocked = new Qwen3Linear("blocked", weight.alias(), new LinearPolicy(WidenBlockRows: 32));
        blocked.Attach("ad", a, b, 0.5);
        var reference = x.matmul(weight.to(ScalarType.Float32).t()) + 0.5 * x.matmul(a.t()).matmul(b.t());
        AssertClose(reference, blocked.Forward(x, "ad"), 1e-5);
    }

    [Fact]
    public void NegativePolicyFieldIsRefusedWithItsName()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Qwen3Linear("bad", zeros(4, 4, dtype: ScalarType.BFloat16), new LinearPolicy(WidenBlockRows: -1)));
        Assert.Contains("WidenBlockRows = -1", error.Message, StringComparison.Ordinal);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double relative)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        var error = (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
        var scale = expected.to(ScalarType.Float64).abs().max().item<double>();
        Assert.True(error <= relative * scale, $"max|Δ| {error:0.0e0} exceeds {relative:0e0} of max|y| {scale:0.0e0}");
    }
}

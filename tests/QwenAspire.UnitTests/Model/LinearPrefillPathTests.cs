using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Kernels;
using QwenAspire.Engine.Model.Lora;
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
        var blocked = new Qwen3Linear("blocked", weight.alias(), new LinearPolicy(WidenAboveRows: 8, KernelMaxRows: 0, WidenBlockRows: block, Bf16DotGemm: false));
        var whole = new Qwen3Linear("whole", weight.alias(), new LinearPolicy(WidenAboveRows: 0, KernelMaxRows: 0, WidenBlockRows: 0, Bf16DotGemm: false));
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
        var whole = new Qwen3Linear("whole", weight.alias(), new LinearPolicy(WidenAboveRows: 0, KernelMaxRows: 0, WidenBlockRows: 0, Bf16DotGemm: false));
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
        blocked.Attach(1, a, b, 0.5);
        var reference = x.matmul(weight.to(ScalarType.Float32).t()) + 0.5 * x.matmul(a.t()).matmul(b.t());
        AssertClose(reference, blocked.Forward(x, LoraRowGroups.All(1, 12)), 1e-5);
    }

    /// <summary>Rows of two adapters interleaved with base rows in one call equal each row through its own adapter alone.</summary>
    [Fact]
    public void MixedAdapterRowsEqualEachRowWithItsOwnAdapter()
    {
        using var scope = NewDisposeScope();
        var weight = randn(50, 24);
        var x = randn(9, 24);
        var linear = new Qwen3Linear("mixed", weight.alias(), LinearPolicy.Default);
        var (a1, b1, a2, b2) = (randn(4, 24), randn(50, 4), randn(8, 24), randn(50, 8));
        linear.Attach(1, a1, b1, 0.5);
        linear.Attach(2, a2, b2, 2.0);
        // Sequences (rows): slot 1 [0,2), base [2,3), slot 2 [3,6), slot 1 [6,9): slot 1 is gathered, slot 2 is a range.
        int[] slots = [1, 0, 2, 1];
        int[] starts = [0, 2, 3, 6, 9];
        using var groups = LoraRowGroups.FromSequences(slots, starts, CPU);
        Assert.Contains(groups.Groups, g => g.Slot == 1 && g.Index is not null);
        Assert.Contains(groups.Groups, g => g.Slot == 2 && g.Index is null && g.Start == 3 && g.Count == 3);
        var mixed = linear.Forward(x, groups);
        for (var s = 0; s < slots.Length; s++)
        {
            var rows = x.narrow(0, starts[s], starts[s + 1] - starts[s]);
            var alone = linear.Forward(rows, LoraRowGroups.All(slots[s], rows.shape[0]));
            AssertClose(alone, mixed.narrow(0, starts[s], starts[s + 1] - starts[s]), 1e-6);
        }
        linear.Detach(1);
        AssertClose(linear.Forward(x), linear.Forward(x, LoraRowGroups.All(1, 9)), 0);
        Assert.Equal([2], linear.AdapterSlots);
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

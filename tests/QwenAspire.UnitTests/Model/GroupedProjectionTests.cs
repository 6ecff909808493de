using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Lora;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model;

/// <summary>
/// Projections of the same activations run as one GEMV group (q/k/v, gate/up) give exactly what each module's own
/// forward gives: bf16/f16/f32 weights, a weight above the GEMV's row limit (projected alone), adapters on a row group.
/// </summary>
public sealed class GroupedProjectionTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 2)]
    [InlineData(12, 2)] // above the bf16 weight's KernelMaxRows of 8: that one goes through libtorch
    public void GroupEqualsEachModuleAlone(int rows, int threads)
    {
        using var scope = NewDisposeScope();
        var previous = get_num_threads();
        set_num_threads(threads);
        try
        {
            manual_seed(rows);
            var policy = new LinearPolicy(KernelMaxRows: 16);
            using var q = new Qwen3Linear("q", randn(300, 260).to(ScalarType.BFloat16), new LinearPolicy(KernelMaxRows: 8));
            using var k = new Qwen3Linear("k", randn(129, 260).to(ScalarType.Float16), policy);
            using var v = new Qwen3Linear("v", randn(64, 260), policy);
            k.Attach(1, randn(4, 260), randn(129, 4), 0.5);
            var linears = new[] { q, k, v };
            var x = randn(rows, 260);
            using var lora = LoraRowGroups.All(1, rows);
            var grouped = Qwen3Linear.Forward(linears, x, lora);
            for (var i = 0; i < linears.Length; i++)
            {
                var alone = linears[i].Forward(x, lora);
                Assert.Equal(alone.shape, grouped[i].shape);
                Assert.Equal(alone.data<float>().ToArray(), grouped[i].data<float>().ToArray());
            }
        }
        finally
        {
            set_num_threads(previous);
        }
    }
}

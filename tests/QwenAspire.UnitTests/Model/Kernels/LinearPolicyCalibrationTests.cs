using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>
/// Load-time calibration of the 16-bit linear paths: small or f32 weights keep the given policy (test models must
/// not depend on the machine); a model-sized bf16 weight gets one of the measured choices, and whatever it picks
/// still computes the projection (checked against f64 over the rows each path serves).
/// </summary>
public sealed class LinearPolicyCalibrationTests
{
    [Fact]
    public void SmallAndF32WeightsKeepThePolicy()
    {
        using var small = randn(256, 256).to(ScalarType.BFloat16);
        Assert.Same(LinearPolicy.Default, LinearPolicyCalibration.Calibrate(small, LinearPolicy.Default, out var none));
        Assert.Null(none);
        using var f32 = randn(2048, 2048);
        Assert.Same(LinearPolicy.Default, LinearPolicyCalibration.Calibrate(f32, LinearPolicy.Default, out _));
    }

    [Fact]
    public void AModelSizedBf16WeightGetsAMeasuredChoiceThatStillProjects()
    {
        using var scope = NewDisposeScope();
        var weight = randn(2048, 2048, generator: new TorchSharp.torch.Generator(3)).div_(32).to(ScalarType.BFloat16); // 4 Mi elements
        var policy = LinearPolicyCalibration.Calibrate(weight, LinearPolicy.Default, out var report);
        Assert.NotNull(report);
        Assert.Contains("rows", report);
        Assert.Contains(policy.KernelMaxRows, new[] { 8, 12, 16 });
        Assert.Contains(policy.WidenAboveRows, new[] { LinearPolicy.Default.WidenAboveRows, int.MaxValue });

        using var linear = new DenseWeight(weight.alias(), policy);
        var reference = weight.to(ScalarType.Float64);
        foreach (var rows in new[] { 1, policy.KernelMaxRows, 16, 64 })
        {
            var x = randn(rows, 2048, generator: new TorchSharp.torch.Generator((ulong)rows));
            var expected = x.to(ScalarType.Float64).matmul(reference.t());
            var actual = linear.Project(x).to(ScalarType.Float64);
            // bf16 activations (the 16-bit GEMM path) round each input to 8 bits of mantissa: ~2^-8 relative per
            // product, averaging out over 2048 terms; f32 paths are far tighter.
            var error = actual.sub(expected).abs().max().item<double>() / expected.abs().max().item<double>();
            Assert.True(error < 2e-2, $"{rows} rows: relative error {error} ({report})");
        }
    }
}

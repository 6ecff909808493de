using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>
/// Load-time quantization: round-trip error within half a step per weight, the SIMD path against the pure-torch
/// (dequantizing) path on the same packed weight, and the projection against the float one within the bound the
/// rounding allows.
/// </summary>
public sealed class QuantizedWeightTests
{
    [Theory]
    [InlineData(WeightQuantization.Int8, 32, ScalarType.BFloat16)]
    [InlineData(WeightQuantization.Int8, 64, ScalarType.Float32)]
    [InlineData(WeightQuantization.Int4, 32, ScalarType.BFloat16)]
    [InlineData(WeightQuantization.Int4, 128, ScalarType.Float16)]
    public void RoundTripErrorIsAtMostHalfAStep(WeightQuantization mode, int group, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var w = randn(67, 256).mul_(0.05).to(dtype);
        w[5] = zeros(256, dtype: dtype); // an all-zero row: scale 0, no NaN
        using var weight = QuantizedWeight.Quantize(new DenseWeight(w.alias(), LinearPolicy.Default), mode, group, LinearPolicy.Default);
        var back = weight.ToFloat();
        Assert.False(back.isnan().any().item<bool>());
        var step = weight.Scales.abs().repeat_interleave(group, 1); // (out, in)
        var error = back.sub(w.to(ScalarType.Float32)).abs();
        // int4 clamps +8·|d| to 7·|d| (the peak's opposite): a full step there, half a step elsewhere.
        var allowed = step.mul(mode == WeightQuantization.Int4 ? 1.0 : 0.5).add_(1e-7);
        Assert.True(error.le(allowed).all().item<bool>(), $"max error {error.max().item<float>()} vs step {step.max().item<float>()}");
        Assert.Equal(0f, back[5].abs().max().item<float>());
    }

    [Theory]
    [InlineData(WeightQuantization.Int8, 1)]
    [InlineData(WeightQuantization.Int8, 16)]
    [InlineData(WeightQuantization.Int4, 1)]
    [InlineData(WeightQuantization.Int4, 7)]
    public void KernelPathMatchesThePureTorchPath(WeightQuantization mode, int rows)
    {
        using var scope = NewDisposeScope();
        manual_seed(rows);
        var w = randn(301, 192).mul_(0.05).to(ScalarType.BFloat16);
        var x = randn(rows, 192);
        using var weight = QuantizedWeight.Quantize(new DenseWeight(w.alias(), LinearPolicy.Default), mode, 32, new LinearPolicy(KernelMaxRows: 16, WidenBlockRows: 64));
        var kernel = weight.ProjectWithKernel(x);
        var torchPath = weight.ProjectWithTorch(x);
        var diff = kernel.sub(torchPath).abs().max().item<float>();
        var scale = torchPath.abs().max().item<float>();
        // Same dequantized values, different f32 summation order only.
        Assert.True(diff <= 1e-5 * Math.Max(1, scale), $"max |kernel − torch| = {diff} (max |y| {scale})");
        Assert.Equal(weight.Project(x).shape, new long[] { rows, 301 });
    }

    [Theory]
    [InlineData(WeightQuantization.Int8)]
    [InlineData(WeightQuantization.Int4)]
    public void PrefillBlocksMatchThePureTorchPath(WeightQuantization mode)
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var w = randn(301, 128).mul_(0.05).to(ScalarType.BFloat16);
        var x = randn(40, 128);
        using var weight = QuantizedWeight.Quantize(new DenseWeight(w.alias(), LinearPolicy.Default), mode, 32, new LinearPolicy(KernelMaxRows: 16, WidenBlockRows: 64));
        var blocks = weight.ProjectDequantizingBlocks(x);
        var torchPath = weight.ProjectWithTorch(x);
        var diff = blocks.sub(torchPath).abs().max().item<float>();
        Assert.True(diff <= 1e-5 * Math.Max(1, torchPath.abs().max().item<float>()), $"max |blocks − torch| = {diff}");
        Assert.Equal(0f, weight.Project(x).sub(blocks).abs().max().item<float>());
    }

    [Theory]
    [InlineData(WeightQuantization.Int8)]
    [InlineData(WeightQuantization.Int4)]
    public void ProjectionStaysWithinTheRoundingBoundOfTheFloatWeight(WeightQuantization mode)
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        var w = randn(128, 256).mul_(0.05);
        var x = randn(4, 256);
        using var weight = QuantizedWeight.Quantize(new DenseWeight(w.alias(), LinearPolicy.Default), mode, 32, LinearPolicy.Default);
        var y = weight.Project(x);
        var exact = nn.functional.linear(x, w);
        // |Σ x (w − ŵ)| ≤ Σ |x| · (allowed per-weight error), the round-trip bound above.
        var step = weight.Scales.abs().repeat_interleave(32, 1).mul(mode == WeightQuantization.Int4 ? 1.0 : 0.5);
        var bound = nn.functional.linear(x.abs(), step).add_(1e-4);
        Assert.True(y.sub(exact).abs().le(bound).all().item<bool>());
        // And it is a real approximation, not a bound that anything meets.
        var relative = y.sub(exact).norm().item<float>() / exact.norm().item<float>();
        Assert.True(relative < (mode == WeightQuantization.Int8 ? 0.01 : 0.15), $"relative error {relative}");
    }

    [Fact]
    public void MergingAfterQuantizationIsRefused()
    {
        using var scope = NewDisposeScope();
        using var linear = new Qwen3Linear("test", randn(8, 64), LinearPolicy.Default);
        linear.Quantize(WeightQuantization.Int8, 32);
        Assert.Equal(WeightQuantization.Int8, linear.Weight.Quantization);
        var error = Assert.Throws<InvalidOperationException>(() => linear.Merge(randn(2, 64), randn(8, 2), 1.0));
        Assert.Contains("before quantizing", error.Message);
    }

    [Fact]
    public void WidthsThatDoNotSplitIntoGroupsStayDense()
    {
        using var scope = NewDisposeScope();
        using var linear = new Qwen3Linear("test", randn(8, 48), LinearPolicy.Default);
        linear.Quantize(WeightQuantization.Int4, 32);
        Assert.IsType<DenseWeight>(linear.Weight);
    }
}

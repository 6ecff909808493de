using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Kernels;
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
    public void RoundTripErrorIsBoundedByTheGroupStep(WeightQuantization mode, int group, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var w = randn(67, 256).mul_(0.05).to(dtype);
        w[5] = zeros(256, dtype: dtype); // an all-zero row: scale 0, no NaN
        using var weight = QuantizedWeight.Quantize(new DenseWeight(w.alias(), LinearPolicy.Default), mode, group, LinearPolicy.Default);
        var back = weight.ToFloat();
        Assert.False(back.isnan().any().item<bool>());
        var step = GroupSteps(weight, group); // (out, in)
        var error = back.sub(w.to(ScalarType.Float32)).abs();
        // int8 rounds to nearest (the f16 scale may shrink the step by 2^-11, so the peak can clamp a hair);
        // int4's searched scale trades clipping an extreme weight (by more than a step, bounded here by two) for a
        // lower weighted error over the group; the relative error below is what that buys.
        var allowed = step.mul(mode == WeightQuantization.Int4 ? 2.0 : 0.51).add_(1e-7);
        Assert.True(error.le(allowed).all().item<bool>(), $"max error {error.max().item<float>()} vs step {step.max().item<float>()}");
        Assert.Equal(0f, back[5].abs().max().item<float>());
        // And it is a real approximation: relative Frobenius error of Gaussian weights.
        var relative = back.sub(w.to(ScalarType.Float32)).norm().item<float>() / w.to(ScalarType.Float32).norm().item<float>();
        Assert.True(relative < (mode == WeightQuantization.Int8 ? 0.006 : group == 32 ? 0.1 : 0.13), $"relative error {relative}");
    }

    /// <summary>Each weight's group step (out, in): int8 the f16 scale × row factor, int4 d·sc.</summary>
    private static Tensor GroupSteps(QuantizedWeight weight, int group)
    {
        var p = weight.Parts;
        var rows = weight.OutFeatures;
        var inF = weight.InFeatures;
        if (weight.Quantization == WeightQuantization.Int8)
            return p.Scales.to(ScalarType.Float32).mul(p.RowFactors.unsqueeze(-1)).repeat_interleave(group, 1).narrow(1, 0, inF);
        var superBlocks = p.Scales.shape[1] / 2;
        var d = p.Scales.reshape(rows, superBlocks, 2).select(2, 0).unsqueeze(-1); // (out, S, 1)
        var sc = p.Sub.reshape(rows, superBlocks, 2, 16).select(2, 0).to(ScalarType.Float32); // (out, S, 16)
        return sc.mul(d).reshape(rows, -1).repeat_interleave(group, 1).narrow(1, 0, inF);
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
        // Same dequantized weights; the kernel rounds x (see ActivationRounding), plus f32 summation noise.
        var bound = ActivationRounding(weight, x, 32).mul_(1.01).add_(1e-5);
        var diff = kernel.sub(torchPath).abs();
        Assert.True(diff.le(bound).all().item<bool>(), $"max |kernel − torch| = {diff.max().item<float>()} (bound {bound.min().item<float>()}..)");
        Assert.True(diff.max().item<float>() > 0 || rows == 0, "the kernel's activations should be rounded, not exact");
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
        var blocks = weight.ProjectDequantizingBlocks(x, bf16: false);
        var torchPath = weight.ProjectWithTorch(x);
        var diff = blocks.sub(torchPath).abs().max().item<float>();
        Assert.True(diff <= 1e-5 * Math.Max(1, torchPath.abs().max().item<float>()), $"max |blocks − torch| = {diff}");
        // bf16 blocks: weights and x each rounded to 8 significant bits (2^-9 relative): |Δy| ≤ 2^-8 · Σ|ŵ||x|.
        var bf16 = weight.ProjectDequantizingBlocks(x, bf16: true);
        var bound = nn.functional.linear(x.abs(), weight.ToFloat().abs()).mul_(1.0 / 256).add_(1e-5);
        Assert.True(bf16.sub(torchPath).abs().le(bound).all().item<bool>(), $"max |bf16 blocks − torch| = {bf16.sub(torchPath).abs().max().item<float>()}");
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
        var step = GroupSteps(weight, 32).mul(mode == WeightQuantization.Int4 ? 2.0 : 0.51);
        // Plus the kernel's rounding of x.
        var bound = nn.functional.linear(x.abs(), step).add_(ActivationRounding(weight, x, 32).mul_(1.1)).add_(1e-4);
        Assert.True(y.sub(exact).abs().le(bound).all().item<bool>());
        // And it is a real approximation, not a bound that anything meets.
        var relative = y.sub(exact).norm().item<float>() / exact.norm().item<float>();
        Assert.True(relative < (mode == WeightQuantization.Int8 ? 0.01 : 0.12), $"relative error {relative}");
    }

    [Theory]
    [InlineData(WeightQuantization.Int8, 1)]
    [InlineData(WeightQuantization.Int4, 5)]
    [InlineData(WeightQuantization.Int8, 40)] // a prompt
    public void AGroupOnTheSameActivationsEqualsEachProjectionAlone(WeightQuantization mode, int rows)
    {
        using var scope = NewDisposeScope();
        manual_seed(rows);
        var policy = new LinearPolicy(KernelMaxRows: 16, WidenBlockRows: 64);
        // q/k/v-like: three widths on one input, one of them odd.
        var linears = new[] { 96, 64, 33 }.Select(o =>
        {
            var linear = new Qwen3Linear("test", randn(o, 256).mul_(0.05).to(ScalarType.BFloat16), policy);
            linear.Quantize(mode, 32);
            return linear;
        }).ToArray();
        var x = randn(rows, 256);
        var grouped = Qwen3Linear.Forward(linears, x);
        for (var i = 0; i < linears.Length; i++)
        {
            var alone = linears[i].Forward(x);
            Assert.Equal(alone.shape, grouped[i].shape);
            // Bit for bit where both take the kernel (the same quantized x, the same tiles); else the same rounding bound.
            var diff = alone.sub(grouped[i]).abs().max().item<float>();
            if (VnniGemv.Available) Assert.Equal(0f, diff);
            else Assert.True(diff <= 1e-4f, $"projection {i}: {diff}");
        }
    }

    /// <summary>
    /// (rows, out) bound on what rounding x costs the kernel: with VNNI x is int8 per group (≤ max|x_g| / 254 per
    /// element), so |Δy| ≤ Σ_g Σ_{c∈g} |ŵ| · max|x_g| / 254; otherwise int16 per row, Σ|ŵ| · max|x| / 65534.
    /// </summary>
    private static Tensor ActivationRounding(QuantizedWeight weight, Tensor x, int group)
    {
        var w = weight.ToFloat().abs(); // (out, in)
        if (!VnniGemv.Available) return w.sum([1]).unsqueeze(0).mul(x.abs().amax([1], keepdim: true)).div_(65534.0);
        var groups = x.shape[1] / group;
        var xg = x.abs().reshape(x.shape[0], groups, group).amax([2]); // (rows, G)
        var wg = w.reshape(w.shape[0], groups, group).sum([2]); // (out, G)
        return xg.matmul(wg.t()).div_(254.0);
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

using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Weights;

/// <summary>The tensors of one packed quantized weight (layout: <c>Kernels/QuantFormats</c>).</summary>
/// <param name="Q">(out, row bytes) int8 weights or int4 nibbles, in storage order.</param>
/// <param name="Scales">int8: (out, groups) f16 relative to the row factor; int4: (out, super-blocks · 2) f32 d, dmin.</param>
/// <param name="Sub">int4: (out, super-blocks · 32) u8 sub-scales then sub-mins; int8: an empty (out, 0) tensor.</param>
/// <param name="RowFactors">(out) f32: multiplies the whole row (int8: the f16 scales' reference; int4: 1).</param>
internal sealed record PackedWeight(Tensor Q, Tensor Scales, Tensor Sub, Tensor RowFactors);

/// <summary>
/// Group-wise quantization of a float weight (out, in) into the packed layout of <c>Kernels/QuantGemv</c>, and
/// back, in plain torch ops (any device): the load-time quantizer, the pure-torch projection path and the prefill
/// path share it, so there is one definition of the formats besides the scalar reference.
/// </summary>
internal static class WeightQuantizer
{
    /// <summary>Rows converted per pass: bounds the f32 temporaries (the lm_head has 151,936 rows).</summary>
    private const long RowsPerPass = 1024;

    /// <summary>
    /// Candidate inverse scales of the int4 search, as llama.cpp's <c>make_qkx2_quants</c> for Q4_K: (15 + rmin +
    /// i·step) / (max − min), each refitted by weighted least squares; 3 of Q4_K's 21 candidates (i = 0, 10, 20: the
    /// search runs at load, in torch ops, and its cost is the int4 load time).
    /// </summary>
    private const double SearchMin = -1.0, SearchStep = 0.1;
    private const int SearchSteps = 20, SearchStride = 10;

    /// <summary>int4 sub-scale levels: 255 (8 bits, ours) by default; 63 reproduces Q4_K's 6-bit sub-scales for comparison (bench-quality).</summary>
    public const int DefaultInt4SubScaleLevels = 255;
    public static int Int4SubScaleLevels { get; set; } = DefaultInt4SubScaleLevels;

    public static PackedWeight Quantize(Tensor w, WeightQuantization mode, int group)
    {
        var rows = w.shape[0];
        var inF = (int)w.shape[1];
        var padded = Kernels.QuantLayout.PaddedWidth(inF, group);
        var groups = padded / group;
        var superBlocks = groups / Kernels.QuantLayout.Lanes;
        var int4 = mode == WeightQuantization.Int4;
        var q = empty(rows, int4 ? padded / 2 : padded, int4 ? ScalarType.Byte : ScalarType.Int8, w.device);
        var scales = int4 ? empty(rows, superBlocks * 2, ScalarType.Float32, w.device) : empty(rows, groups, ScalarType.Float16, w.device);
        var sub = empty(rows, int4 ? superBlocks * 32 : 0, ScalarType.Byte, w.device);
        var factors = ones(rows, ScalarType.Float32, w.device);
        for (long r0 = 0; r0 < rows; r0 += RowsPerPass)
        {
            using var scope = NewDisposeScope();
            var m = Math.Min(RowsPerPass, rows - r0);
            var f = w.narrow(0, r0, m).to(ScalarType.Float32);
            if (int4)
            {
                // The search runs on the real groups only; padding groups are zeros with zero scales.
                var (values, d, sc) = QuantizeInt4(f.reshape(m, inF / group, group), m, superBlocks, group);
                q.narrow(0, r0, m).copy_(Pack4(values, m, superBlocks, group));
                scales.narrow(0, r0, m).copy_(d);
                sub.narrow(0, r0, m).copy_(sc);
            }
            else
            {
                if (padded > inF) f = nn.functional.pad(f, [0, padded - inF]);
                var g = f.reshape(m, groups, group); // (m, G, gs)
                var amax = g.abs().amax([-1]); // (m, G)
                var factor = amax.amax([-1], keepdim: true).div_(127.0); // (m, 1)
                factor = where(factor.eq(0), ones_like(factor), factor);
                // f16 scales relative to the row's largest: always in f16's normal range, 11 significant bits.
                var h = amax.div(127.0).div_(factor).to(ScalarType.Float16);
                var step = h.to(ScalarType.Float32).mul_(factor).unsqueeze(-1); // (m, G, 1)
                var values = g.mul(Reciprocal(step)).round_().clamp_(-127, 127).to(ScalarType.Int8);
                q.narrow(0, r0, m).copy_(Permute(values, m, superBlocks, group).reshape(m, padded));
                scales.narrow(0, r0, m).copy_(h);
                factors.narrow(0, r0, m).copy_(factor.squeeze(-1));
            }
        }
        return new PackedWeight(q, scales, sub, factors);
    }

    /// <summary>
    /// Q4_K's scheme on (m, G, gs) groups: per group a scale and a non-positive minimum by llama.cpp's weighted
    /// search, then 8-bit sub-scales/sub-mins per super-block and the final 0..15 values against those.
    /// Returns values (m, G, gs) int32, d/dmin (m, S·2) f32, sub-scales (m, S·32) u8.
    /// </summary>
    private static (Tensor Values, Tensor D, Tensor Sub) QuantizeInt4(Tensor g, long m, int superBlocks, int group)
    {
        // llama.cpp's importance for Q4_K without an imatrix: av_x + |x|, av_x the group's RMS.
        var weight = g.square().mean([-1], keepdim: true).sqrt_().add(g.abs()); // (m, G, gs)
        var lo = g.amin([-1], keepdim: true).clamp_max_(0); // (m, G, 1)
        var hi = g.amax([-1], keepdim: true);
        var range = hi.sub(lo);
        var flat = range.eq(0);
        var bestScale = range.div(15.0);
        var bestMin = lo.clone();
        var bestError = WeightedError(g, weight, bestScale, bestMin, Levels(g, bestMin, Reciprocal(bestScale)));
        var sumW = weight.sum([-1], keepdim: true);
        var sumX = weight.mul(g).sum([-1], keepdim: true);
        for (var i = 0; i <= SearchSteps; i += SearchStride)
        {
            var inv = where(flat, zeros_like(range), range.reciprocal().mul_(15 + SearchMin + SearchStep * i));
            var l = Levels(g, lo, inv);
            var wl = weight.mul(l);
            var sumL = wl.sum([-1], keepdim: true);
            var sumL2 = wl.mul(l).sum([-1], keepdim: true);
            var sumXL = wl.mul(g).sum([-1], keepdim: true);
            var det = sumW.mul(sumL2).sub_(sumL.square());
            var ok = det.gt(0);
            var safeDet = where(ok, det, ones_like(det));
            var scale = sumW.mul(sumXL).sub_(sumX.mul(sumL)).div_(safeDet);
            var min = sumL2.mul(sumX).sub_(sumL.mul(sumXL)).div_(safeDet);
            // The minimum stays ≤ 0 (stored as dmin·mn with mn ≥ 0); refit the scale alone then.
            var positive = min.gt(0);
            scale = where(positive, sumXL.div(where(sumL2.gt(0), sumL2, ones_like(sumL2))), scale);
            min = where(positive, zeros_like(min), min);
            var error = WeightedError(g, weight, scale, min, l);
            var better = error.lt(bestError).logical_and_(ok);
            bestScale = where(better, scale, bestScale);
            bestMin = where(better, min, bestMin);
            bestError = where(better, error, bestError);
        }
        // Super-blocks of 16 groups: 8-bit sub-scales and sub-mins against one f32 d and dmin each.
        var pad = superBlocks * Kernels.QuantLayout.Lanes - g.shape[1];
        if (pad > 0)
        {
            g = nn.functional.pad(g, [0, 0, 0, pad]);
            bestScale = nn.functional.pad(bestScale, [0, 0, 0, pad]);
            bestMin = nn.functional.pad(bestMin, [0, 0, 0, pad]);
        }
        var s = bestScale.clamp_min(0).reshape(m, superBlocks, Kernels.QuantLayout.Lanes);
        var mn = bestMin.neg().clamp_min_(0).reshape(m, superBlocks, Kernels.QuantLayout.Lanes);
        var levels = (double)Int4SubScaleLevels;
        var d = s.amax([-1], keepdim: true).div_(levels); // (m, S, 1)
        var dmin = mn.amax([-1], keepdim: true).div_(levels);
        var sc = s.mul(Reciprocal(d)).round_().clamp_(0, levels);
        var mq = mn.mul(Reciprocal(dmin)).round_().clamp_(0, levels);
        var effScale = sc.mul(d).reshape(m, -1, 1); // (m, G, 1)
        var effMin = mq.mul(dmin).reshape(m, -1, 1);
        var values = g.add(effMin).mul_(Reciprocal(effScale)).round_().clamp_(0, 15).to(ScalarType.Int32);
        var dd = cat([d, dmin], -1).reshape(m, superBlocks * 2);
        var subScales = cat([sc, mq], -1).to(ScalarType.Byte).reshape(m, superBlocks * 32);
        return (values, dd, subScales);
    }

    private static Tensor Levels(Tensor g, Tensor min, Tensor inverseScale) => g.sub(min).mul_(inverseScale).round_().clamp_(0, 15);

    private static Tensor WeightedError(Tensor g, Tensor weight, Tensor scale, Tensor min, Tensor l) =>
        l.mul(scale).add_(min).sub_(g).pow_(2).mul_(weight).sum([-1], keepdim: true);

    /// <summary>(m, G, gs) in column order → (m, S, gs / 4, 16, 4): quad-major, group j's four columns at slots 4j..4j+3.</summary>
    private static Tensor Permute(Tensor v, long m, int superBlocks, int group) =>
        v.reshape(m, superBlocks, Kernels.QuantLayout.Lanes, group / 4, 4).permute(0, 1, 3, 2, 4).contiguous();

    /// <summary>Values 0..15 (m, G, gs) → (m, padded / 2) u8: chunk c holds quad 2c in low nibbles, quad 2c + 1 in high.</summary>
    private static Tensor Pack4(Tensor values, long m, int superBlocks, int group)
    {
        var steps = Permute(values, m, superBlocks, group).reshape(m, superBlocks, group / 8, 2, 64);
        var lo = steps.select(3, 0);
        var hi = steps.select(3, 1);
        return lo.add(hi.mul(16)).to(ScalarType.Byte).reshape(m, -1);
    }

    /// <summary>Rows [r0, r0 + n) of a packed weight back to f32 (n, inF), in column order.</summary>
    public static Tensor Dequantize(PackedWeight p, WeightQuantization mode, int group, int inF, long r0, long n)
    {
        var padded = Kernels.QuantLayout.PaddedWidth(inF, group);
        var groups = padded / group;
        var superBlocks = groups / Kernels.QuantLayout.Lanes;
        var lanes = Kernels.QuantLayout.Lanes;
        var q = p.Q.narrow(0, r0, n);
        Tensor w;
        if (mode == WeightQuantization.Int4)
        {
            var b = q.reshape(n, superBlocks, group / 8, 1, 64).to(ScalarType.Int32);
            var lo = b.remainder(16);
            var hi = b.sub(lo).div(16, RoundingMode.trunc);
            var steps = cat([lo, hi], 3).reshape(n, superBlocks, group / 4, lanes, 4).permute(0, 1, 3, 2, 4).to(ScalarType.Float32); // (n, S, 16, gs/4, 4)
            var dd = p.Scales.narrow(0, r0, n).reshape(n, superBlocks, 1, 2);
            var sub = p.Sub.narrow(0, r0, n).reshape(n, superBlocks, 2, lanes).to(ScalarType.Float32);
            var scale = sub.select(2, 0).mul(dd.select(3, 0)).reshape(n, superBlocks, lanes, 1, 1);
            var min = sub.select(2, 1).mul(dd.select(3, 1)).reshape(n, superBlocks, lanes, 1, 1);
            w = steps.mul(scale).sub_(min).reshape(n, padded);
        }
        else
        {
            var values = q.to(ScalarType.Float32).reshape(n, superBlocks, group / 4, lanes, 4).permute(0, 1, 3, 2, 4); // (n, S, 16, gs/4, 4)
            var step = p.Scales.narrow(0, r0, n).to(ScalarType.Float32).mul(p.RowFactors.narrow(0, r0, n).unsqueeze(-1)); // (n, G)
            w = values.reshape(n, groups, group).mul(step.unsqueeze(-1)).reshape(n, padded);
        }
        return (padded > inF ? w.narrow(1, 0, inF) : w).contiguous(); // (n, in)
    }

    /// <summary>0 where d is 0 (an all-zero group), else 1/d: zero groups quantize to zeros, not NaN.</summary>
    private static Tensor Reciprocal(Tensor d) => where(d.eq(0), zeros_like(d), d.reciprocal());
}

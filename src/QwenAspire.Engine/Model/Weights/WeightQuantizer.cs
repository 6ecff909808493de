using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Weights;

/// <summary>
/// Group-wise quantization of a float weight (out, in) into the packed layout of <c>Kernels/QuantGemv</c>, and
/// back, in plain torch ops (any device): the load-time quantizer, the pure-torch projection path and the prefill
/// path all share it, so there is one definition of the formats besides the scalar reference.
/// </summary>
internal static class WeightQuantizer
{
    /// <summary>Rows converted per pass: bounds the f32 temporaries (the lm_head has 151,936 rows).</summary>
    private const long RowsPerPass = 4096;

    /// <summary>w (out, in) f32/bf16/f16 → packed (out, in) int8 or (out, in / 2) uint8, scales (out, in / group) f32.</summary>
    public static (Tensor Packed, Tensor Scales) Quantize(Tensor w, WeightQuantization mode, int group)
    {
        var rows = w.shape[0];
        var inF = w.shape[1];
        var groups = inF / group;
        var int4 = mode == WeightQuantization.Int4;
        var packed = empty(rows, int4 ? inF / 2 : inF, int4 ? ScalarType.Byte : ScalarType.Int8, w.device);
        var scales = empty(rows, groups, ScalarType.Float32, w.device);
        for (long r0 = 0; r0 < rows; r0 += RowsPerPass)
        {
            using var scope = NewDisposeScope();
            var m = Math.Min(RowsPerPass, rows - r0);
            var f = w.narrow(0, r0, m).to(ScalarType.Float32).reshape(m, groups, group); // (m, G, gs)
            Tensor d, q;
            if (int4)
            {
                // llama.cpp Q4_0's choice: the largest-magnitude weight maps to −8 exactly, so its sign picks the scale's.
                var peak = f.gather(-1, f.abs().argmax(-1, keepdim: true)); // (m, G, 1)
                d = peak.div(-8.0);
                q = f.mul(Reciprocal(d)).round_().clamp_(-8, 7).add_(8).to(ScalarType.Int32);
                q = Pack4(q.reshape(m, inF / 32, 32)).reshape(m, inF / 2);
            }
            else
            {
                d = f.abs().amax([-1], keepdim: true).div_(127.0); // (m, G, 1)
                q = f.mul(Reciprocal(d)).round_().clamp_(-127, 127).to(ScalarType.Int8).reshape(m, inF);
            }
            packed.narrow(0, r0, m).copy_(q);
            scales.narrow(0, r0, m).copy_(d.reshape(m, groups));
        }
        return (packed, scales);
    }

    /// <summary>Rows [r0, r0 + n) of a packed weight back to f32 (n, in).</summary>
    public static Tensor Dequantize(Tensor packed, Tensor scales, WeightQuantization mode, int group, long r0, long n)
    {
        var groups = scales.shape[1];
        var inF = groups * group;
        var p = packed.narrow(0, r0, n);
        var values = mode == WeightQuantization.Int4 ? Unpack4(p, n, inF) : p.to(ScalarType.Float32);
        return values.reshape(n, groups, group).mul_(scales.narrow(0, r0, n).unsqueeze(-1)).reshape(n, inF); // (n, in)
    }

    /// <summary>0 where d is 0 (an all-zero group), else 1/d: zero groups quantize to zeros, not NaN.</summary>
    private static Tensor Reciprocal(Tensor d) => where(d.eq(0), zeros_like(d), d.reciprocal());

    /// <summary>(…, 32) int32 nibbles 0..15 → (…, 16) uint8: byte j = value j | value j + 16 in the high nibble.</summary>
    private static Tensor Pack4(Tensor q)
    {
        var lo = q.narrow(-1, 0, 16);
        var hi = q.narrow(-1, 16, 16);
        return lo.add(hi.mul(16)).to(ScalarType.Byte);
    }

    /// <summary>(n, in / 2) uint8 → (n, in) f32 values −8..7.</summary>
    private static Tensor Unpack4(Tensor p, long n, long inF)
    {
        var b = p.reshape(n, inF / 32, 16).to(ScalarType.Int32);
        var lo = b.remainder(16);
        var hi = b.sub(lo).div(16, RoundingMode.trunc);
        return cat([lo, hi], -1).reshape(n, inF).to(ScalarType.Float32).sub_(8.0);
    }
}

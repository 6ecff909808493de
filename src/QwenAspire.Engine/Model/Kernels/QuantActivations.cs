namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// f32 activation rows → int16 in the weights' storage order (<see cref="QuantLayout"/>), one f32 scale per row
/// (max |x| / 32767), plus each group's sum of the int16 values (what int4's per-group minimum multiplies).
/// </summary>
/// <remarks>
/// int16 rather than llama.cpp's int8 activations: without VNNI (not exposed by .NET on AVX-512 VNNI CPUs)
/// int8 × int8 costs as many instructions as sign-extending the weights and <c>vpmaddwd</c> against int16, and
/// 16 bits make the activation rounding (≤ max|x| / 65534 per element) negligible beside the weights'.
/// </remarks>
internal static unsafe class QuantActivations
{
    public const float Range = 32767f;

    /// <summary>
    /// x (rows, inF) f32 → xq (rows, padded) int16 permuted, scale (rows), sums (rows, padded / group) f32.
    /// Padding columns are 0.
    /// </summary>
    public static void Quantize(float* x, int rows, int inF, int group, short* xq, float* scale, float* sums)
    {
        var padded = QuantLayout.PaddedWidth(inF, group);
        var groups = padded / group;
        for (var r = 0; r < rows; r++)
        {
            var xr = x + (long)r * inF;
            var amax = MaxAbs(xr, inF);
            var s = amax / Range;
            scale[r] = s;
            var inv = amax > 0 ? Range / amax : 0f;
            var qr = xq + (long)r * padded;
            var sr = sums + (long)r * groups;
            var sb = QuantLayout.SuperBlock(group);
            for (var g = 0; g < groups; g++)
            {
                // Group g = super-block g / 16, lane g % 16: its column e lands at quad e / 4, slot 4·lane + e % 4.
                var baseQ = qr + g / QuantLayout.Lanes * sb + 4 * (g % QuantLayout.Lanes);
                var c0 = g * group;
                var sum = 0;
                for (var e = 0; e < group; e++)
                {
                    var c = c0 + e;
                    var v = c < inF ? (int)MathF.Round(xr[c] * inv) : 0;
                    v = Math.Clamp(v, -32767, 32767);
                    baseQ[(e >> 2) * 64 + (e & 3)] = (short)v;
                    sum += v;
                }
                sr[g] = sum;
            }
        }
    }

    private static float MaxAbs(float* x, int n)
    {
        var i = 0;
        var m = System.Runtime.Intrinsics.Vector256<float>.Zero;
        for (; i + 8 <= n; i += 8) m = System.Runtime.Intrinsics.Vector256.Max(m, System.Runtime.Intrinsics.Vector256.Abs(System.Runtime.Intrinsics.Vector256.Load(x + i)));
        var amax = 0f;
        for (var k = 0; k < 8; k++) amax = MathF.Max(amax, m[k]);
        for (; i < n; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        return amax;
    }
}

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// Scalar reference for <see cref="QuantGemv"/> over the same packed layout, in f64 and in column order (through
/// <see cref="QuantLayout.Position"/>): what the SIMD kernels are tested against, and the definition of the formats.
/// </summary>
internal static unsafe class QuantReference
{
    /// <summary>Weight (row o, column c) as stored, decoded: d·q for int8, d·sc·q − dmin·mn for int4.</summary>
    public static double Weight(byte* q, byte* scales, byte* sub, float* rowFactors, int o, int c, int inF, int group, bool int4)
    {
        GroupScale(scales, sub, rowFactors, o, c / group, inF, group, int4, out var mul, out var min);
        var row = q + o * QuantLayout.RowBytes(inF, group, int4);
        return mul * QuantLayout.Value(row, QuantLayout.Position(c, group), int4) - min;
    }

    /// <summary>Multiplier and (int4) subtracted minimum of group <paramref name="g"/> of row <paramref name="o"/>.</summary>
    public static void GroupScale(byte* scales, byte* sub, float* rowFactors, int o, int g, int inF, int group, bool int4, out double mul, out double min)
    {
        var s = scales + o * QuantLayout.ScaleBytes(inF, group, int4);
        if (int4)
        {
            var d = (float*)s + 2 * (g / QuantLayout.Lanes);
            var u = sub + o * QuantLayout.SubBytes(inF, group, int4) + g / QuantLayout.Lanes * QuantLayout.Int4SubBytes;
            var lane = g % QuantLayout.Lanes;
            mul = (double)d[0] * u[lane] * rowFactors[o];
            min = (double)d[1] * u[16 + lane] * rowFactors[o];
        }
        else
        {
            mul = (double)BitConverter.UInt16BitsToHalf(((ushort*)s)[g]) * rowFactors[o];
            min = 0;
        }
    }

    /// <summary>Span form of <see cref="GroupScale(byte*, byte*, float*, int, int, int, int, bool, out double, out double)"/>.</summary>
    public static (double Mul, double Min) GroupScale(ReadOnlySpan<byte> scales, ReadOnlySpan<byte> sub, ReadOnlySpan<float> rowFactors, int o, int g, int inF, int group, bool int4)
    {
        fixed (byte* s = scales)
        fixed (byte* u = sub)
        fixed (float* f = rowFactors)
        {
            GroupScale(s, u, f, o, g, inF, group, int4, out var mul, out var min);
            return (mul, min);
        }
    }

    /// <summary>The stored value of (row o, column c).</summary>
    public static int Value(ReadOnlySpan<byte> q, int o, int c, int inF, int group, bool int4)
    {
        fixed (byte* p = q) return QuantLayout.Value(p + o * QuantLayout.RowBytes(inF, group, int4), QuantLayout.Position(c, group), int4);
    }

    /// <summary>
    /// y (rows, outF) for x quantized exactly as the kernels do (int16, one scale per row), accumulated in f64, so the
    /// kernels differ from it only by f32 rounding of the per-super-block sums.
    /// </summary>
    public static double[] Compute(ReadOnlySpan<float> x, int rows, ReadOnlySpan<byte> q, ReadOnlySpan<byte> scales, ReadOnlySpan<byte> sub,
        ReadOnlySpan<float> rowFactors, int group, int outF, int inF, bool int4)
    {
        var values = new double[rows][];
        var rowScales = new double[rows];
        for (var t = 0; t < rows; t++)
        {
            var xr = x.Slice(t * inF, inF);
            var amax = 0f;
            foreach (var v in xr) amax = MathF.Max(amax, MathF.Abs(v));
            var inv = amax > 0 ? QuantActivations.Range / amax : 0f;
            values[t] = new double[inF];
            for (var c = 0; c < inF; c++) values[t][c] = Math.Clamp((int)MathF.Round(xr[c] * inv), -32767, 32767);
            rowScales[t] = amax / QuantActivations.Range;
        }
        return Product(values, rowScales, q, scales, sub, rowFactors, group, outF, inF, int4);
    }

    /// <summary>
    /// y (rows, outF) for x quantized exactly as the VNNI kernels do (<see cref="QuantActivations8"/>: int8, one scale
    /// per group), accumulated in f64.
    /// </summary>
    public static double[] ComputeInt8Activations(ReadOnlySpan<float> x, int rows, ReadOnlySpan<byte> q, ReadOnlySpan<byte> scales, ReadOnlySpan<byte> sub,
        ReadOnlySpan<float> rowFactors, int group, int outF, int inF, bool int4)
    {
        var values = new double[rows][];
        for (var t = 0; t < rows; t++)
        {
            var xr = x.Slice(t * inF, inF);
            var xd = values[t] = new double[inF];
            for (var g0 = 0; g0 < inF; g0 += group)
            {
                var n = Math.Min(group, inF - g0);
                var amax = 0f;
                for (var c = g0; c < g0 + n; c++) amax = MathF.Max(amax, MathF.Abs(xr[c]));
                var inv = amax > 0 ? QuantActivations8.Range / amax : 0f;
                var scale = amax / QuantActivations8.Range;
                for (var c = g0; c < g0 + n; c++) xd[c] = Math.Clamp((int)MathF.Round(xr[c] * inv), -127, 127) * (double)scale;
            }
        }
        return Product(values, [.. Enumerable.Repeat(1.0, rows)], q, scales, sub, rowFactors, group, outF, inF, int4);
    }

    /// <summary>y[t, o] = rowScale[t] · Σ_c w[o, c] · a[t][c] in f64, w decoded by <see cref="Weight(byte*, byte*, byte*, float*, int, int, int, int, bool)"/>.</summary>
    private static double[] Product(double[][] a, double[] rowScale, ReadOnlySpan<byte> q, ReadOnlySpan<byte> scales, ReadOnlySpan<byte> sub,
        ReadOnlySpan<float> rowFactors, int group, int outF, int inF, bool int4)
    {
        var y = new double[a.Length * outF];
        fixed (byte* qp = q)
        fixed (byte* sp = scales)
        fixed (byte* up = sub)
        fixed (float* fp = rowFactors)
        {
            for (var t = 0; t < a.Length; t++)
                for (var o = 0; o < outF; o++)
                {
                    double sum = 0;
                    for (var c = 0; c < inF; c++) sum += Weight(qp, sp, up, fp, o, c, inF, group, int4) * a[t][c];
                    y[t * outF + o] = sum * rowScale[t];
                }
        }
        return y;
    }
}

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// Scalar reference for <see cref="QuantGemv"/> over the same packed layout, accumulating in f64: what the
/// SIMD kernels are tested against, and the definition of the formats.
/// </summary>
internal static unsafe class QuantReference
{
    public static double[] Compute(ReadOnlySpan<float> x, int rows, ReadOnlySpan<byte> q, ReadOnlySpan<float> scales, int group, int outF, int inF, bool int4)
    {
        var y = new double[rows * outF];
        var groups = inF / group;
        var rowBytes = int4 ? inF / 2 : inF;
        fixed (byte* qp = q)
        {
            for (var o = 0; o < outF; o++)
            {
                var row = qp + (long)o * rowBytes;
                for (var t = 0; t < rows; t++)
                {
                    double sum = 0;
                    for (var i = 0; i < inF; i++)
                    {
                        var v = int4 ? Int4Format.Value(row, i) : Int8Format.Value(row, i);
                        sum += (double)scales[o * groups + i / group] * v * x[t * inF + i];
                    }
                    y[t * outF + o] = sum;
                }
            }
        }
        return y;
    }
}

using System.Numerics;
using System.Runtime.InteropServices;

namespace QwenAspire.Engine.Sampling;

/// <summary>SIMD helpers for the few full-vocabulary passes the sampler makes.</summary>
internal static class VectorMath
{
    /// <summary>Largest value (NaN-free input assumed; NaNs are caught by <see cref="ArgMax"/>).</summary>
    public static float Max(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) throw new ArgumentException("Empty logits.", nameof(values));
        var i = 0;
        var best = float.NegativeInfinity;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            var acc = new Vector<float>(float.NegativeInfinity);
            foreach (var v in vectors) acc = Vector.Max(acc, v);
            for (var k = 0; k < Vector<float>.Count; k++) best = Math.Max(best, acc[k]);
            i = vectors.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++) best = Math.Max(best, values[i]);
        return best;
    }

    /// <summary>Index of the largest value; ties go to the lowest index.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var max = Max(values);
        var idx = values.IndexOf(max);
        if (idx < 0 || float.IsNaN(max))
            throw new InvalidOperationException("The model produced NaN logits.");
        return idx;
    }
}

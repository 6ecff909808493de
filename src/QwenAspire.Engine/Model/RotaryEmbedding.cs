using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// RoPE in HF's rotate-half form: dims (i, i + D/2) rotate by pos · θ^(−2i/D). Angles are computed in
/// double and rounded once, which keeps f32 drift at long positions below the fixture's tolerance.
/// </summary>
public sealed class RotaryEmbedding(int headDim, double theta)
{
    private readonly int _half = headDim / 2;
    private readonly double[] _inverseFrequencies = Enumerable.Range(0, headDim / 2)
        .Select(i => Math.Pow(theta, -2.0 * i / headDim)).ToArray();

    /// <summary>cos and sin tables, each (T, 1, D/2), for positions start..start+T-1.</summary>
    public (Tensor Cos, Tensor Sin) Tables(int start, int count, Device device) =>
        Tables([.. Enumerable.Range(start, count)], device);

    /// <summary>cos and sin tables, each (T, 1, D/2), one row per entry of <paramref name="positions"/>.</summary>
    public (Tensor Cos, Tensor Sin) Tables(ReadOnlySpan<int> positions, Device device)
    {
        var count = positions.Length;
        var cos = new float[count * _half];
        var sin = new float[count * _half];
        Fill(positions, cos, sin);
        return (tensor(cos, [count, 1, _half], device: device), tensor(sin, [count, 1, _half], device: device));
    }

    /// <summary>The same tables as plain arrays, (T · D/2) each, row t at offset t · D/2 (the CPU decode path).</summary>
    public void Fill(ReadOnlySpan<int> positions, Span<float> cos, Span<float> sin)
    {
        for (var t = 0; t < positions.Length; t++)
        {
            for (var i = 0; i < _half; i++)
            {
                var angle = positions[t] * _inverseFrequencies[i];
                cos[t * _half + i] = (float)Math.Cos(angle);
                sin[t * _half + i] = (float)Math.Sin(angle);
            }
        }
    }

    /// <summary>x (T, heads, D) → rotated (T, heads, D).</summary>
    public Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        var x1 = x.narrow(-1, 0, _half);
        var x2 = x.narrow(-1, _half, _half);
        return cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1);
    }
}

using System.Text;

namespace QwenAspire.Engine.Model.Generator;

/// <summary>
/// The portable weight recipe of the tiny-qwen3 fixture (FIXTURE-README "Weight recipe"): a tensor's seed
/// is FNV-1a 64 of its seed string, values come from a SplitMix64 stream, one draw per element in
/// row-major order. Arithmetic is double in the stated order, rounded once to float32, so any platform
/// reproduces the fixture bit for bit.
/// </summary>
public static class WeightRecipe
{
    /// <summary>The double nearest to √3, as the recipe spells it.</summary>
    public const double Sqrt3 = 1.7320508075688772;

    public static ulong Fnv1a64(string seedString)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(seedString))
        {
            h ^= b;
            h = unchecked(h * 0x100000001b3UL);
        }
        return h;
    }

    public static ulong SplitMix64Next(ref ulong state)
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Fills a matrix with uniform values of standard deviation <paramref name="std"/>.</summary>
    public static void FillMatrix(string seedString, double std, Span<float> values)
    {
        var state = Fnv1a64(seedString);
        for (var i = 0; i < values.Length; i++)
        {
            var t = 2.0 * NextUnit(ref state) - 1.0;
            values[i] = (float)((t * std) * Sqrt3);
        }
    }

    /// <summary>Fills a norm weight (1-D tensor) with 1 + uniform(−0.3, 0.3).</summary>
    public static void FillNorm(string seedString, Span<float> values)
    {
        var state = Fnv1a64(seedString);
        for (var i = 0; i < values.Length; i++)
        {
            var t = 2.0 * NextUnit(ref state) - 1.0;
            values[i] = (float)(1.0 + t * 0.3);
        }
    }

    /// <summary>Round to nearest, ties to even, of the f32 bit pattern (no NaN/Inf occurs in the recipe).</summary>
    public static ushort ToBFloat16(float value)
    {
        var x = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
    }

    public static void ToBFloat16(ReadOnlySpan<float> source, Span<ushort> target)
    {
        for (var i = 0; i < source.Length; i++) target[i] = ToBFloat16(source[i]);
    }

    private static double NextUnit(ref ulong state) => (SplitMix64Next(ref state) >> 11) * (1.0 / 9007199254740992.0);
}

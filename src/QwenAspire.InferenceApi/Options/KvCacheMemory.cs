using System.Globalization;
using QwenAspire.Engine.Model;

namespace QwenAspire.InferenceApi.Options;

/// <summary>
/// Parses <c>engine.kv_cache_memory</c>: a byte size (<c>1073741824</c>, <c>512MiB</c>, <c>4GiB</c>, <c>4GB</c> =
/// 4·10⁹) or a fraction of the memory available at load (<c>0.25</c>; a number with a decimal point in (0, 1]).
/// </summary>
public static class KvCacheMemory
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("kib", 1L << 10), ("mib", 1L << 20), ("gib", 1L << 30), ("tib", 1L << 40),
        ("kb", 1_000L), ("mb", 1_000_000L), ("gb", 1_000_000_000L), ("tb", 1_000_000_000_000L),
        ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30), ("t", 1L << 40), ("b", 1),
    ];

    /// <summary>(bytes, null) or (null, fraction); false with a reason when <paramref name="text"/> is neither.</summary>
    public static bool TryParse(string? text, out long? bytes, out double? fraction, out string error)
    {
        bytes = null;
        fraction = null;
        error = "";
        var t = (text ?? "").Trim().ToLowerInvariant();
        if (t.Length == 0)
        {
            error = "must be a size like 4GiB or 512MiB, bytes, or a fraction of available memory like 0.25.";
            return false;
        }
        if (t.Contains('.', StringComparison.Ordinal) && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var f))
        {
            if (f is > 0 and <= 1)
            {
                fraction = f;
                return true;
            }
            error = $"'{text}' is read as a fraction of available memory and must be in (0, 1].";
            return false;
        }
        var (suffix, factor) = Units.FirstOrDefault(u => t.EndsWith(u.Suffix, StringComparison.Ordinal));
        var number = suffix is null ? t : t[..^suffix.Length].Trim();
        if (!decimal.TryParse(number, NumberStyles.Number, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            error = $"'{text}' is not a size like 4GiB or 512MiB, a byte count, or a fraction like 0.25.";
            return false;
        }
        var total = value * (suffix is null ? 1 : factor);
        if (total > long.MaxValue)
        {
            error = $"'{text}' is too large.";
            return false;
        }
        bytes = (long)total;
        return true;
    }

    /// <summary>The runner's settings from validated options (see <see cref="EngineDeviceOptionsValidator"/>).</summary>
    public static KvCacheSettings ToSettings(EngineDeviceOptions o)
    {
        if (!TryParse(o.KvCacheMemory, out var bytes, out var fraction, out var error))
            throw new ArgumentException($"engine.kv_cache_memory: {error}");
        return new KvCacheSettings(bytes, fraction, o.KvBlockSize, o.KvCacheDtype);
    }
}

using System.Text;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// Integer bounds (<c>minimum</c>/<c>maximum</c>/<c>exclusive*</c>) as a pattern over the digits, so the
/// number is in range by construction: [lo, hi] is split into runs of equal digit count, each into prefix
/// ranges (the classic range-to-regex construction), negatives as '-' and the mirrored range. Values are in
/// canonical JSON form (no leading zeros, no "-0"); an open side stops at <see cref="Limit"/> (the grammar's
/// 16-digit integer cap).
/// </summary>
public static class IntegerRanges
{
    public const long Limit = 9_999_999_999_999_999;

    /// <summary>The anchored pattern for lo ≤ n ≤ hi (both within ±<see cref="Limit"/>, lo ≤ hi).</summary>
    public static string Pattern(long lo, long hi)
    {
        if (lo > hi) throw new ArgumentException("lo > hi");
        var options = new List<string>();
        if (lo < 0) options.Add("-(" + NonNegative(Math.Max(1, hi < 0 ? -hi : 1), -lo) + ")");
        if (hi >= 0) options.Add(NonNegative(Math.Max(0, lo), hi));
        return "^(" + string.Join("|", options) + ")$";
    }

    /// <summary>0 ≤ lo ≤ n ≤ hi.</summary>
    private static string NonNegative(long lo, long hi)
    {
        var parts = new List<string>();
        for (var digits = Digits(lo); digits <= Digits(hi); digits++)
        {
            var from = Math.Max(lo, digits == 1 ? 0 : Pow10(digits - 1));
            var to = Math.Min(hi, Pow10(digits) - 1);
            if (from <= to) parts.Add(SameLength(from.ToString(System.Globalization.CultureInfo.InvariantCulture), to.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        return string.Join("|", parts);
    }

    private static int Digits(long n) => n < 10 ? 1 : 1 + Digits(n / 10);

    private static long Pow10(int n)
    {
        long r = 1;
        for (var i = 0; i < n; i++) r *= 10;
        return r;
    }

    /// <summary>Digit strings of one length, lo ≤ hi.</summary>
    private static string SameLength(string lo, string hi)
    {
        if (lo.Length == 0) return "";
        if (lo == hi) return lo;
        if (lo[0] == hi[0]) return lo[0] + "(" + SameLength(lo[1..], hi[1..]) + ")";
        var rest = lo.Length - 1;
        var options = new StringBuilder();
        var low = lo[0];
        var high = hi[0];
        // lo's first digit with the rest from lo's tail up; unless that tail is all zeros (then the middle takes it).
        if (lo[1..].Trim('0').Length > 0)
        {
            options.Append(low).Append('(').Append(SameLength(lo[1..], new string('9', rest))).Append(")|");
            low++;
        }
        var fullHigh = hi[1..].Trim('9').Length == 0;
        var midHigh = fullHigh ? high : (char)(high - 1);
        if (low <= midHigh) options.Append('[').Append(low).Append('-').Append(midHigh).Append(']').Append(rest > 0 ? $"[0-9]{{{rest}}}" : "").Append('|');
        if (!fullHigh) options.Append(high).Append('(').Append(SameLength(new string('0', rest), hi[1..])).Append(")|");
        return options.ToString().TrimEnd('|');
    }
}

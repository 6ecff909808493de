using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>Python str operations that count code points, not UTF-16 units (emoji are one character).</summary>
internal static class PyString
{
    private static bool HasSurrogates(string s)
    {
        foreach (char c in s)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    public static long Length(string s)
    {
        if (!HasSurrogates(s)) return s.Length;
        long n = 0;
        for (int i = 0; i < s.Length; i++, n++)
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
        return n;
    }

    public static IEnumerable<object?> CodePoints(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                yield return s.Substring(i, 2);
                i++;
            }
            else yield return s[i].ToString();
        }
    }

    /// <summary>Returns the string as a list of code-point strings only when it needs one (has surrogates).</summary>
    public static List<string>? Split(string s) => HasSurrogates(s) ? [.. CodePoints(s).Cast<string>()] : null;

    public static string Index(string s, long index)
    {
        var cps = Split(s);
        int n = cps?.Count ?? s.Length;
        long i = index < 0 ? index + n : index;
        if (i < 0 || i >= n) throw new PyError("string index out of range");
        return cps != null ? cps[(int)i] : s[(int)i].ToString();
    }

    public static string Slice(string s, long? start, long? stop, long? step)
    {
        var cps = Split(s);
        int n = cps?.Count ?? s.Length;
        var sb = new StringBuilder();
        foreach (int i in Slicing.Indices(n, start, stop, step))
        {
            if (cps != null) sb.Append(cps[i]);
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }
}

/// <summary>Python slice index arithmetic (<c>slice.indices</c>).</summary>
internal static class Slicing
{
    public static IEnumerable<int> Indices(int length, long? start, long? stop, long? step)
    {
        long st = step ?? 1;
        if (st == 0) throw new PyError("slice step cannot be zero");
        long lo, hi;
        if (st > 0)
        {
            lo = Clamp(start ?? 0, length, 0, length);
            hi = Clamp(stop ?? length, length, 0, length);
            for (long i = lo; i < hi; i += st) yield return (int)i;
        }
        else
        {
            lo = start is null ? length - 1 : Clamp(start.Value, length, -1, length - 1);
            hi = stop is null ? -1 : Clamp(stop.Value, length, -1, length - 1);
            for (long i = lo; i > hi; i += st) yield return (int)i;
        }
    }

    private static long Clamp(long v, int length, long min, long max)
    {
        if (v < 0) v += length;
        return Math.Clamp(v, min, max);
    }
}

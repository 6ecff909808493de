using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>Number, ordering and text-layout filters.</summary>
internal static partial class Filters
{
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevCased = false;
        foreach (char c in s)
        {
            sb.Append(prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            prevCased = char.IsLetter(c);
        }
        return sb.ToString();
    }

    private static object? ToInt(object? v, Args a, RenderContext _)
    {
        object? fallback = a.Get(0, "default", 0L);
        switch (v)
        {
            case long or bool: return v is bool b ? (b ? 1L : 0L) : v;
            case double d: return double.IsFinite(d) ? (long)Math.Truncate(d) : fallback;
            case string s:
                var t = s.Trim(PyText.WhitespaceChars).Replace("_", "");
                if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
                return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && double.IsFinite(f) ? (long)Math.Truncate(f) : fallback;
            default: return fallback;
        }
    }

    private static object? ToFloat(object? v, Args a, RenderContext _)
    {
        object? fallback = a.Get(0, "default", 0.0);
        return v switch
        {
            long or bool or double => Py.ToDouble(v),
            string s when double.TryParse(s.Trim(PyText.WhitespaceChars), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            _ => fallback,
        };
    }

    private static object? Round(object? v, Args a, RenderContext _)
    {
        double d = Py.ToDouble(v);
        long precision = a.Int(0, "precision", 0);
        string method = a.String(1, "method", "common");
        double scale = Math.Pow(10, precision);
        return method switch
        {
            // Python's round(): half to even.
            "common" => precision is >= 0 and <= 15 ? Math.Round(d, (int)precision, MidpointRounding.ToEven) : Math.Round(d * scale, MidpointRounding.ToEven) / scale,
            "ceil" => Math.Ceiling(d * scale) / scale,
            "floor" => Math.Floor(d * scale) / scale,
            _ => throw new PyError("method must be common, ceil or floor"),
        };
    }

    private static object? SortKey(object? item, object? attribute, bool caseSensitive)
    {
        var key = attribute is null or Undefined ? item : AttributePath(item, attribute);
        return !caseSensitive && key is string s ? s.ToLowerInvariant() : key;
    }

    private static object? Unique(object? v, Args a, RenderContext _)
    {
        bool cs = a.Bool(0, "case_sensitive", false);
        var attribute = a.Get(1, "attribute");
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in Py.Iterate(v))
        {
            var key = SortKey(item, attribute, cs);
            if (seen.Exists(s => Py.Equal(s, key))) continue;
            seen.Add(key);
            result.Add(item);
        }
        return result;
    }

    private static object? Sort(object? v, Args a, RenderContext _)
    {
        bool reverse = a.Bool(0, "reverse", false), cs = a.Bool(1, "case_sensitive", false);
        var attribute = a.Get(2, "attribute");
        var keyed = Py.Iterate(v).Select(x => (Key: SortKey(x, attribute, cs), Item: x)).ToList();
        // Python's sort is stable; OrderBy is too.
        var cmp = Comparer<object?>.Create((x, y) => Py.Compare(x, y));
        var sorted = reverse ? keyed.OrderByDescending(k => k.Key, cmp) : keyed.OrderBy(k => k.Key, cmp);
        return sorted.Select(k => k.Item).ToList();
    }

    private static object? Sum(object? v, Args a, RenderContext _)
    {
        var attribute = a.Get(0, "attribute");
        object? total = a.Get(1, "start", 0L);
        foreach (var item in Py.Iterate(v))
            total = Ops.Binary("+", total, attribute is null or Undefined ? item : AttributePath(item, attribute));
        return total;
    }

    private static object? MinMax(object? v, Args a, bool max)
    {
        bool cs = a.Bool(0, "case_sensitive", false);
        var attribute = a.Get(1, "attribute");
        var items = Py.Iterate(v);
        if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
        object? best = items[0];
        foreach (var item in items.Skip(1))
        {
            int c = Py.Compare(SortKey(item, attribute, cs), SortKey(best, attribute, cs));
            if (max ? c > 0 : c < 0) best = item;
        }
        return best;
    }

    private static object? Indent(object? v, Args a, RenderContext _)
    {
        var widthArg = a.Get(0, "width", 4L);
        string pad = widthArg is string ws ? ws : new string(' ', (int)Py.ToDouble(widthArg));
        bool first = a.Bool(1, "first", false), blank = a.Bool(2, "blank", false);
        var lines = Py.Str(v).Split('\n');
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0) sb.Append('\n');
            bool indent = (i > 0 || first) && (blank || lines[i].Length > 0);
            if (indent) sb.Append(pad);
            sb.Append(lines[i]);
        }
        return sb.ToString();
    }
}

using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>Global functions: Jinja's <c>range</c>, <c>namespace</c>, <c>dict</c>, and transformers' <c>raise_exception</c>, <c>strftime_now</c>.</summary>
internal static class Globals
{
    public static readonly IReadOnlyDictionary<string, ICallable> Functions = new Dictionary<string, ICallable>(StringComparer.Ordinal)
    {
        ["range"] = new BuiltinFunction("range", (a, kw, _) => Range(a, kw)),
        ["namespace"] = new BuiltinFunction("namespace", (a, kw, _) => MakeNamespace(a, kw)),
        ["dict"] = new BuiltinFunction("dict", (a, kw, _) => MakeDict(a, kw)),
        ["raise_exception"] = new BuiltinFunction("raise_exception", (a, _, _) => throw new RaiseSignal(a.Count > 0 ? Py.Str(a[0]) : "raise_exception() called")),
        ["strftime_now"] = new BuiltinFunction("strftime_now", (a, kw, _) => Strftime(DateTime.Now, new Args("strftime_now", a, kw).String(0, "format"))),
    };

    private static List<object?> Range(List<object?> a, List<KeyValuePair<string, object?>> kw)
    {
        if (kw.Count > 0 || a.Count is 0 or > 3) throw new PyError("range expected 1 to 3 integer arguments");
        long[] n = a.Select(x => x is long l ? l : x is bool b ? (b ? 1 : 0) : throw new PyError($"'{Py.TypeName(x)}' object cannot be interpreted as an integer")).ToArray();
        long start = n.Length > 1 ? n[0] : 0, stop = n.Length > 1 ? n[1] : n[0], step = n.Length > 2 ? n[2] : 1;
        if (step == 0) throw new PyError("range() arg 3 must not be zero");
        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= 1_000_000) throw new PyError("range too big (more than 1,000,000 items)");
            result.Add(i);
        }
        return result;
    }

    private static Namespace MakeNamespace(List<object?> a, List<KeyValuePair<string, object?>> kw)
    {
        var ns = new Namespace();
        foreach (var (k, v) in MakeDict(a, kw)) ns.Attributes[Py.Str(k)] = v;
        return ns;
    }

    private static PyDict MakeDict(List<object?> a, List<KeyValuePair<string, object?>> kw)
    {
        var d = new PyDict();
        if (a.Count > 1) throw new PyError("dict expected at most 1 argument");
        if (a.Count == 1)
        {
            if (a[0] is PyDict src) foreach (var kv in src) d[kv.Key] = kv.Value;
            else
                foreach (var pair in Py.Iterate(a[0]))
                {
                    var p = Py.AsSeq(pair);
                    if (p is not { Count: 2 }) throw new PyError("dictionary update sequence element has wrong length");
                    d[PyDict.Key(p[0])] = p[1];
                }
        }
        foreach (var kv in kw) d[kv.Key] = kv.Value;
        return d;
    }

    /// <summary>C/Python strftime directives (plus glibc's %-d style no-padding flag).</summary>
    public static string Strftime(DateTime t, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length) { sb.Append(c); continue; }
            c = format[++i];
            bool noPad = false;
            if (c == '-' && i + 1 < format.Length) { noPad = true; c = format[++i]; }
            string Num(int v, int width) => noPad ? v.ToString(inv) : v.ToString(new string('0', width), inv);
            sb.Append(c switch
            {
                'Y' => t.Year.ToString(inv),
                'y' => Num(t.Year % 100, 2),
                'm' => Num(t.Month, 2),
                'd' => Num(t.Day, 2),
                'e' => t.Day.ToString(inv).PadLeft(2),
                'H' => Num(t.Hour, 2),
                'I' => Num(t.Hour % 12 == 0 ? 12 : t.Hour % 12, 2),
                'M' => Num(t.Minute, 2),
                'S' => Num(t.Second, 2),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", inv),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => Num(t.DayOfYear, 3),
                'B' => inv.DateTimeFormat.GetMonthName(t.Month),
                'b' or 'h' => inv.DateTimeFormat.GetAbbreviatedMonthName(t.Month),
                'A' => inv.DateTimeFormat.GetDayName(t.DayOfWeek),
                'a' => inv.DateTimeFormat.GetAbbreviatedDayName(t.DayOfWeek),
                'w' => ((int)t.DayOfWeek).ToString(inv),
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(inv),
                'z' => t.Kind == DateTimeKind.Utc ? "+0000" : FormatOffset(TimeZoneInfo.Local.GetUtcOffset(t)),
                'Z' => t.Kind == DateTimeKind.Utc ? "UTC" : TimeZoneInfo.Local.StandardName,
                'F' => t.ToString("yyyy-MM-dd", inv),
                'T' => t.ToString("HH:mm:ss", inv),
                'D' => t.ToString("MM/dd/yy", inv),
                'R' => t.ToString("HH:mm", inv),
                'c' => t.ToString("ddd MMM ", inv) + t.Day.ToString(inv).PadLeft(2) + t.ToString(" HH:mm:ss yyyy", inv),
                'x' => t.ToString("MM/dd/yy", inv),
                'X' => t.ToString("HH:mm:ss", inv),
                '%' => "%",
                _ => "%" + (noPad ? "-" : "") + c,
            });
        }
        return sb.ToString();
    }

    private static string FormatOffset(TimeSpan o) =>
        (o < TimeSpan.Zero ? "-" : "+") + Math.Abs(o.Hours).ToString("00", CultureInfo.InvariantCulture) + Math.Abs(o.Minutes).ToString("00", CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>
/// Python value semantics over the runtime representation: null = None, <see cref="Undefined"/>, string,
/// bool, long (int), double (float), <c>List&lt;object?&gt;</c> (list), <see cref="PyTuple"/>, <see cref="PyDict"/>.
/// </summary>
internal static class Py
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        Undefined => "Undefined",
        string => "str",
        bool => "bool",
        long => "int",
        double => "float",
        List<object?> => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        ICallable => "function",
        _ => v.GetType().Name,
    };

    public static bool IsTrue(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        string s => s.Length > 0,
        long l => l != 0,
        double d => d != 0,
        List<object?> l => l.Count > 0,
        PyTuple t => t.Items.Length > 0,
        PyDict d => d.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new PyError($"expected a number, got '{TypeName(v)}'"),
    };

    /// <summary>Python <c>str(v)</c>; Undefined prints as the empty string like Jinja's default Undefined.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PyFloat.Repr(d),
        _ => Repr(v),
    };

    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, v);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case string s: AppendStringRepr(sb, s); break;
            case List<object?> list: AppendSeq(sb, list, '[', ']'); break;
            case PyTuple t:
                AppendSeq(sb, t.Items, '(', ')');
                if (t.Items.Length == 1) sb.Insert(sb.Length - 1, ',');
                break;
            case PyDict d:
                sb.Append('{');
                bool first = true;
                foreach (var kv in d)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    AppendRepr(sb, kv.Key);
                    sb.Append(": ");
                    AppendRepr(sb, kv.Value);
                }
                sb.Append('}');
                break;
            case Namespace ns:
                sb.Append("<Namespace ");
                AppendRepr(sb, ToDict(ns.Attributes));
                sb.Append('>');
                break;
            case Undefined: sb.Append("Undefined"); break;
            case ICallable: sb.Append("<function>"); break;
            case LoopContext: sb.Append("<LoopContext>"); break;
            default: sb.Append(Str(v)); break;
        }
    }

    private static PyDict ToDict(Dictionary<string, object?> attrs)
    {
        var d = new PyDict(attrs.Count);
        foreach (var kv in attrs) d[kv.Key] = kv.Value;
        return d;
    }

    private static void AppendSeq(StringBuilder sb, IReadOnlyList<object?> items, char open, char close)
    {
        sb.Append(open);
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            AppendRepr(sb, items[i]);
        }
        sb.Append(close);
    }

    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == quote || c == '\\') sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                int cp = char.ConvertToUtf32(c, s[i + 1]);
                if (IsPrintable(CharUnicodeInfo.GetUnicodeCategory(cp))) sb.Append(c).Append(s[i + 1]);
                else sb.Append("\\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
                i++;
            }
            else if (c == ' ' || IsPrintable(CharUnicodeInfo.GetUnicodeCategory(c))) sb.Append(c);
            else if (c < 0x100) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        sb.Append(quote);
    }

    private static bool IsPrintable(UnicodeCategory cat) => cat is not (UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);

    public static bool Equal(object? a, object? b)
    {
        if (a is string sa) return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? ToDouble(a) == ToDouble(b) : ToLong(a) == ToLong(b);
        switch (a)
        {
            case null: return b is null;
            case Undefined: return b is Undefined;
            case List<object?> la: return b is List<object?> lb && SeqEqual(la, lb);
            case PyTuple ta: return b is PyTuple tb && SeqEqual(ta.Items, tb.Items);
            case PyDict da:
                if (b is not PyDict db || da.Count != db.Count) return false;
                foreach (var kv in da)
                    if (!db.TryGetValue(kv.Key, out var other) || !Equal(kv.Value, other)) return false;
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    private static long ToLong(object? v) => v is bool b ? (b ? 1 : 0) : (long)v!;

    private static bool SeqEqual(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (!Equal(a[i], b[i])) return false;
        return true;
    }

    /// <summary>Python ordering for &lt; &gt; &lt;= &gt;= and sorting; mixed types raise TypeError like Python.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? ToDouble(a).CompareTo(ToDouble(b)) : ToLong(a).CompareTo(ToLong(b));
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb) switch { < 0 => -1, > 0 => 1, _ => 0 };
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        IReadOnlyList<object?>? la = AsSeq(a), lb = AsSeq(b);
        if (la != null && lb != null && a!.GetType() == b!.GetType())
        {
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
                if (!Equal(la[i], lb[i])) return Compare(la[i], lb[i], op);
            return la.Count.CompareTo(lb.Count);
        }
        throw new PyError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static IReadOnlyList<object?>? AsSeq(object? v) => v switch
    {
        List<object?> l => l,
        PyTuple t => t.Items,
        _ => null,
    };

    /// <summary>Materializes what a for loop, join or list() walks over; dicts yield keys, strings characters.</summary>
    public static List<object?> Iterate(object? v) => v switch
    {
        List<object?> l => l,
        PyTuple t => [.. t.Items],
        PyDict d => [.. d.Keys],
        string s => [.. PyString.CodePoints(s)],
        Undefined => [],
        _ => throw new PyError($"'{TypeName(v)}' object is not iterable"),
    };

    public static long Length(object? v) => v switch
    {
        string s => PyString.Length(s),
        List<object?> l => l.Count,
        PyTuple t => t.Items.Length,
        PyDict d => d.Count,
        Undefined => 0,
        _ => throw new PyError($"object of type '{TypeName(v)}' has no len()"),
    };

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is not string sub) throw new PyError($"'in <string>' requires string as left operand, not {TypeName(item)}");
                return s.Contains(sub, StringComparison.Ordinal);
            case PyDict d: return d.ContainsKey(PyDict.Key(item));
            case Undefined: return false;
        }
        var seq = AsSeq(container) ?? throw new PyError($"argument of type '{TypeName(container)}' is not iterable");
        foreach (var x in seq)
            if (Equal(x, item)) return true;
        return false;
    }
}

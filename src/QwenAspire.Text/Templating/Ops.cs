using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>Attribute/item lookup as Jinja's sandbox does it, and Python's arithmetic operators.</summary>
internal static class Ops
{
    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case PyDict d:
                if (Methods.HasDictMethod(name)) return new BoundMethod(d, name);
                return d.TryGetValue(name, out var v) ? v : new Undefined($"'dict object' has no attribute '{name}'");
            case string s:
                return Methods.HasStringMethod(name) ? new BoundMethod(s, name) : new Undefined($"'str object' has no attribute '{name}'");
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var a) ? a : new Undefined($"'Namespace' object has no attribute '{name}'");
            case LoopContext loop: return loop.Get(name);
            default: return new Undefined($"{OwnerText(obj)} has no attribute '{name}'");
        }
    }

    public static object? GetItem(object? obj, object? key)
    {
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case PyDict d:
                if (key is not (null or Undefined or List<object?> or PyDict) && d.TryGetValue(key, out var v)) return v;
                if (key is string ks && Methods.HasDictMethod(ks)) return new BoundMethod(d, ks);
                return new Undefined($"'dict object' has no attribute {Py.Repr(key)}");
            case string s when key is long or bool:
                long si = IndexOf(key), n = PyString.Length(s);
                return si >= -n && si < n ? PyString.Index(s, si) : new Undefined("string index out of range");
            case List<object?> or PyTuple when key is long or bool:
                var seq = Py.AsSeq(obj)!;
                long i = IndexOf(key);
                if (i < 0) i += seq.Count;
                return i >= 0 && i < seq.Count ? seq[(int)i] : new Undefined($"{Py.TypeName(obj)} index out of range");
        }
        return key is string name ? GetAttr(obj, name) : new Undefined($"{OwnerText(obj)} has no attribute {Py.Repr(key)}");
    }

    /// <summary>Jinja's object_type_repr: 'None', or "'list object'" for other values.</summary>
    private static string OwnerText(object? obj) => obj is null ? "'None'" : $"'{Py.TypeName(obj)} object'";

    private static long IndexOf(object? key) => key is bool b ? (b ? 1 : 0) : (long)key!;

    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        long? a = SliceArg(start), b = SliceArg(stop), c = SliceArg(step);
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case string s: return PyString.Slice(s, a, b, c);
            case List<object?> l: return Slicing.Indices(l.Count, a, b, c).Select(i => l[i]).ToList();
            case PyTuple t: return new PyTuple([.. Slicing.Indices(t.Items.Length, a, b, c).Select(i => t.Items[i])]);
            default: throw new PyError($"'{Py.TypeName(obj)}' object is not subscriptable");
        }
    }

    private static long? SliceArg(object? v) => v switch
    {
        null => null,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new PyError("slice indices must be integers or None"),
    };

    private static PyError Unsupported(string op, object? a, object? b) =>
        new($"unsupported operand type(s) for {op}: '{Py.TypeName(a)}' and '{Py.TypeName(b)}'");

    private static void FailUndefined(object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
    }

    private static bool BothInts(object? a, object? b) => a is long or bool && b is long or bool;

    private static long L(object? v) => v is bool b ? (b ? 1 : 0) : (long)v!;

    public static object? Binary(string op, object? a, object? b)
    {
        FailUndefined(a, b);
        return op switch
        {
            "+" => Add(a, b),
            "-" when BothInts(a, b) => L(a) - L(b),
            "-" when Py.IsNumber(a) && Py.IsNumber(b) => Py.ToDouble(a) - Py.ToDouble(b),
            "*" => Mul(a, b),
            "/" when Py.IsNumber(a) && Py.IsNumber(b) => Py.ToDouble(b) == 0 ? throw new PyError("division by zero") : Py.ToDouble(a) / Py.ToDouble(b),
            "//" when BothInts(a, b) => L(b) == 0 ? throw new PyError("integer division or modulo by zero") : FloorDiv(L(a), L(b)),
            "//" when Py.IsNumber(a) && Py.IsNumber(b) => Py.ToDouble(b) == 0 ? throw new PyError("float floor division by zero") : Math.Floor(Py.ToDouble(a) / Py.ToDouble(b)),
            "%" when a is string fmt => PercentFormat(fmt, b),
            "%" when BothInts(a, b) => L(b) == 0 ? throw new PyError("integer division or modulo by zero") : Mod(L(a), L(b)),
            "%" when Py.IsNumber(a) && Py.IsNumber(b) => FloatMod(Py.ToDouble(a), Py.ToDouble(b)),
            "**" when BothInts(a, b) && L(b) >= 0 => IntPow(L(a), L(b)),
            "**" when Py.IsNumber(a) && Py.IsNumber(b) => Math.Pow(Py.ToDouble(a), Py.ToDouble(b)),
            _ => throw Unsupported(op, a, b),
        };
    }

    private static object? Add(object? a, object? b)
    {
        if (a is string sa) return b is string sb ? string.Concat(sa, sb) : throw new PyError($"can only concatenate str (not \"{Py.TypeName(b)}\") to str");
        if (BothInts(a, b)) return L(a) + L(b);
        if (Py.IsNumber(a) && Py.IsNumber(b)) return Py.ToDouble(a) + Py.ToDouble(b);
        if (a is List<object?> la) return b is List<object?> lb ? new List<object?>([.. la, .. lb]) : throw new PyError($"can only concatenate list (not \"{Py.TypeName(b)}\") to list");
        if (a is PyTuple ta && b is PyTuple tb) return new PyTuple([.. ta.Items, .. tb.Items]);
        throw Unsupported("+", a, b);
    }

    private static object? Mul(object? a, object? b)
    {
        if (BothInts(a, b)) return L(a) * L(b);
        if (Py.IsNumber(a) && Py.IsNumber(b)) return Py.ToDouble(a) * Py.ToDouble(b);
        if (a is long or bool && b is string or List<object?>) (a, b) = (b, a);
        if (b is long or bool)
        {
            long n = Math.Max(0, L(b));
            long size = n * (a is string str ? str.Length : a is List<object?> lst ? lst.Count : 0);
            if (n > int.MaxValue || size > MaxRepeat) throw new PyError($"repetition result too large ({size} items; limit {MaxRepeat})");
            if (a is string s) return new StringBuilder(s.Length * (int)n).Insert(0, s, (int)n).ToString();
            if (a is List<object?> l) return Enumerable.Repeat(l, (int)n).SelectMany(x => x).ToList();
        }
        throw Unsupported("*", a, b);
    }

    private const long MaxRepeat = 16 * 1024 * 1024;

    private static long FloorDiv(long a, long b)
    {
        long q = a / b;
        return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q;
    }

    private static long Mod(long a, long b)
    {
        long r = a % b;
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }

    private static double FloatMod(double a, double b)
    {
        if (b == 0) throw new PyError("float modulo");
        double r = a % b;
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }

    private static long IntPow(long a, long b)
    {
        long r = 1;
        for (long i = 0; i < b; i++) r = checked(r * a);
        return r;
    }

    /// <summary>The common part of Python's <c>%</c> string formatting: %s %r %d %i %f %%.</summary>
    private static string PercentFormat(string fmt, object? args)
    {
        var values = args is PyTuple t ? t.Items : [args];
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            if (fmt[i] != '%') { sb.Append(fmt[i]); continue; }
            if (++i >= fmt.Length) throw new PyError("incomplete format");
            char c = fmt[i];
            if (c == '%') { sb.Append('%'); continue; }
            if (next >= values.Length) throw new PyError("not enough arguments for format string");
            object? v = values[next++];
            sb.Append(c switch
            {
                's' => Py.Str(v),
                'r' => Py.Repr(v),
                'd' or 'i' => Py.IsNumber(v) ? ((long)Math.Truncate(Py.ToDouble(v))).ToString(CultureInfo.InvariantCulture) : throw new PyError($"%{c} format: a number is required, not {Py.TypeName(v)}"),
                'f' => Py.ToDouble(v).ToString("F6", CultureInfo.InvariantCulture),
                _ => throw new PyError($"unsupported format character '{c}'"),
            });
        }
        if (next < values.Length) throw new PyError("not all arguments converted during string formatting");
        return sb.ToString();
    }
}

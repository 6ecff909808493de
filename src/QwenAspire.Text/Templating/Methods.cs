using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>The str and dict methods chat templates call (<c>content.startswith(...)</c>, <c>message.get(...)</c>).</summary>
internal static class Methods
{
    private static readonly HashSet<string> StringMethods =
    [
        "startswith", "endswith", "split", "rsplit", "strip", "lstrip", "rstrip", "replace", "upper", "lower",
        "title", "capitalize", "find", "rfind", "count", "join", "splitlines", "isdigit", "isalpha", "isspace",
        "isupper", "islower", "removeprefix", "removesuffix", "format",
    ];

    private static readonly HashSet<string> DictMethods = ["items", "keys", "values", "get"];

    public static bool HasStringMethod(string name) => StringMethods.Contains(name);

    public static bool HasDictMethod(string name) => DictMethods.Contains(name);

    public static object? Invoke(object target, string name, List<object?> pos, List<KeyValuePair<string, object?>> kw)
    {
        var a = new Args(name, pos, kw);
        return target switch
        {
            string s => StringMethod(s, name, a),
            PyDict d => DictMethod(d, name, a),
            _ => throw new PyError($"'{Py.TypeName(target)}' object has no attribute '{name}'"),
        };
    }

    private static object? DictMethod(PyDict d, string name, Args a)
    {
        switch (name)
        {
            case "items": a.Max(0); return d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList();
            case "keys": a.Max(0); return d.Keys.Cast<object?>().ToList();
            case "values": a.Max(0); return d.Values.ToList();
            default:
                a.Max(2);
                object? key = a.Get(0, "key");
                return key is not (null or Undefined) && d.TryGetValue(PyDict.Key(key), out var v) ? v : a.Get(1, "default");
        }
    }

    private static object? StringMethod(string s, string name, Args a)
    {
        switch (name)
        {
            case "startswith": return Affix(s, a, (x, p) => x.StartsWith(p, StringComparison.Ordinal));
            case "endswith": return Affix(s, a, (x, p) => x.EndsWith(p, StringComparison.Ordinal));
            case "strip": return Strip(s, a.OptionalString(0, "chars"), true, true);
            case "lstrip": return Strip(s, a.OptionalString(0, "chars"), true, false);
            case "rstrip": return Strip(s, a.OptionalString(0, "chars"), false, true);
            case "split": return Split(s, a.OptionalString(0, "sep"), a.Int(1, "maxsplit", -1), fromRight: false);
            case "rsplit": return Split(s, a.OptionalString(0, "sep"), a.Int(1, "maxsplit", -1), fromRight: true);
            case "replace": return Replace(s, a.String(0, "old"), a.String(1, "new"), a.Int(2, "count", -1));
            case "upper": return Upper(s);
            case "lower": return s.ToLowerInvariant();
            case "title": return Filters.Title(s);
            case "capitalize": return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
            case "find": return (long)s.IndexOf(a.String(0, "sub"), StringComparison.Ordinal);
            case "rfind": return (long)s.LastIndexOf(a.String(0, "sub"), StringComparison.Ordinal);
            case "count": return CountOf(s, a.String(0, "sub"));
            case "join": return string.Join(s, Py.Iterate(a.Get(0, "iterable")).Select(x => x as string ?? throw new PyError($"sequence item: expected str instance, {Py.TypeName(x)} found")));
            case "splitlines": return s.Split('\n').Select(x => (object?)x.TrimEnd('\r')).SkipLast(s.EndsWith('\n') ? 1 : 0).ToList();
            case "isdigit": return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha": return s.Length > 0 && s.All(char.IsLetter);
            case "isspace": return s.Length > 0 && s.All(PyText.IsWhitespace);
            case "isupper": return s.Any(char.IsLetter) && !s.Any(char.IsLower);
            case "islower": return s.Any(char.IsLetter) && !s.Any(char.IsUpper);
            case "format": return Format(s, a);
            case "removeprefix": { var p = a.String(0, "prefix"); return s.StartsWith(p, StringComparison.Ordinal) ? s[p.Length..] : s; }
            default: { var p = a.String(0, "suffix"); return p.Length > 0 && s.EndsWith(p, StringComparison.Ordinal) ? s[..^p.Length] : s; }
        }
    }

    /// <summary>Python's upper() uses full case mapping: 'ß' becomes "SS" (the one case chat text meets).</summary>
    public static string Upper(string s)
    {
        var u = s.ToUpperInvariant();
        return u.Contains('ß') ? u.Replace("ß", "SS", StringComparison.Ordinal) : u;
    }

    /// <summary><c>str.format</c> with <c>{}</c>, <c>{0}</c>, <c>{name}</c> and <c>{{ }}</c> escapes (no format specs).</summary>
    private static string Format(string fmt, Args a)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            char c = fmt[i];
            if (c == '}' && i + 1 < fmt.Length && fmt[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c != '{') { sb.Append(c); continue; }
            if (i + 1 < fmt.Length && fmt[i + 1] == '{') { sb.Append('{'); i++; continue; }
            int end = fmt.IndexOf('}', i);
            if (end < 0) throw new PyError("Single '{' encountered in format string");
            string field = fmt[(i + 1)..end];
            if (field.Contains(':') || field.Contains('!')) throw new PyError("format specs and conversions in str.format are not supported");
            int index = field.Length == 0 ? auto++ : int.TryParse(field, out int n) ? n : -1;
            string key = index >= 0 ? "\0" : field;
            if (!a.Has(index, key))
                throw new PyError(index >= 0 ? "tuple index out of range" : $"'{field}'");
            sb.Append(Py.Str(a.Get(index, key)));
            i = end;
        }
        return sb.ToString();
    }

    private static bool Affix(string s, Args a, Func<string, string, bool> test)
    {
        object? arg = a.Get(0, "prefix");
        if (a.Count > 1) throw new PyError("startswith/endswith with start/end arguments is not supported");
        if (arg is PyTuple t) return t.Items.Any(x => test(s, x as string ?? throw new PyError("tuple for startswith/endswith must only contain str")));
        return test(s, arg as string ?? throw new PyError($"startswith/endswith first arg must be str or a tuple of str, not {Py.TypeName(arg)}"));
    }

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        if (chars == null)
        {
            if (left) s = s.TrimStart(PyText.WhitespaceChars);
            if (right) s = s.TrimEnd(PyText.WhitespaceChars);
            return s;
        }
        var set = chars.ToCharArray();
        if (left) s = s.TrimStart(set);
        if (right) s = s.TrimEnd(set);
        return s;
    }

    private static List<object?> Split(string s, string? sep, long maxsplit, bool fromRight)
    {
        if (sep != null && sep.Length == 0) throw new PyError("empty separator");
        var parts = new List<object?>();
        if (sep == null)
        {
            var words = s.Split(PyText.WhitespaceChars, StringSplitOptions.RemoveEmptyEntries);
            if (maxsplit < 0 || words.Length <= maxsplit + 1) return [.. words];
            // With a limit, the remainder keeps its inner whitespace; only the edges are trimmed.
            string rest = fromRight ? s.TrimEnd(PyText.WhitespaceChars) : s.TrimStart(PyText.WhitespaceChars);
            for (long i = 0; i < maxsplit; i++)
            {
                if (fromRight)
                {
                    int cut = rest.LastIndexOfAny(PyText.WhitespaceChars);
                    parts.Insert(0, rest[(cut + 1)..]);
                    rest = rest[..cut].TrimEnd(PyText.WhitespaceChars);
                }
                else
                {
                    int cut = rest.IndexOfAny(PyText.WhitespaceChars);
                    parts.Add(rest[..cut]);
                    rest = rest[cut..].TrimStart(PyText.WhitespaceChars);
                }
            }
            if (fromRight) parts.Insert(0, rest); else parts.Add(rest);
            return parts;
        }
        if (maxsplit < 0) return [.. s.Split(sep)];
        if (!fromRight) return [.. s.Split(sep, (int)Math.Min(int.MaxValue, maxsplit + 1))];
        string remaining = s;
        for (long i = 0; i < maxsplit; i++)
        {
            int at = remaining.LastIndexOf(sep, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Insert(0, remaining[(at + sep.Length)..]);
            remaining = remaining[..at];
        }
        parts.Insert(0, remaining);
        return parts;
    }

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? ReplaceEmpty(s, replacement, long.MaxValue) : s.Replace(old, replacement, StringComparison.Ordinal);
        if (old.Length == 0) return ReplaceEmpty(s, replacement, count);
        var sb = new StringBuilder();
        int pos = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static string ReplaceEmpty(string s, string r, long count)
    {
        var sb = new StringBuilder();
        long n = 0;
        foreach (string cp in PyString.CodePoints(s).Cast<string>())
        {
            if (n++ < count) sb.Append(r);
            sb.Append(cp);
        }
        if (n++ < count) sb.Append(r);
        return sb.ToString();
    }

    private static long CountOf(string s, string sub)
    {
        if (sub.Length == 0) return PyString.Length(s) + 1;
        long n = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}

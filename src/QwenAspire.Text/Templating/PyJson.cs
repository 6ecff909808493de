using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>
/// Python's <c>json.dumps(x, ensure_ascii=False, indent=…, separators=…, sort_keys=…)</c>, which is what
/// transformers installs as the <c>tojson</c> filter (Jinja's own HTML-escaping tojson is replaced).
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, string? indent = null, string? itemSep = null, string? keySep = null, bool sortKeys = false, bool ensureAscii = false)
    {
        var w = new Writer
        {
            Indent = indent,
            ItemSep = itemSep ?? (indent != null ? "," : ", "),
            KeySep = keySep ?? ": ",
            SortKeys = sortKeys,
            EnsureAscii = ensureAscii,
        };
        w.Write(value, 0);
        return w.Sb.ToString();
    }

    /// <summary>Maps Python's <c>indent</c> argument: an int is that many spaces, a string is used as is.</summary>
    public static string? IndentArg(object? indent) => indent switch
    {
        null or Undefined => null,
        long n => new string(' ', (int)Math.Max(0, n)),
        bool b => new string(' ', b ? 1 : 0),
        string s => s,
        _ => throw new PyError($"tojson indent must be an int or a string, not '{Py.TypeName(indent)}'"),
    };

    private sealed class Writer
    {
        public readonly StringBuilder Sb = new();
        public string? Indent;
        public string ItemSep = ", ";
        public string KeySep = ": ";
        public bool SortKeys;
        public bool EnsureAscii;

        public void Write(object? v, int level)
        {
            switch (v)
            {
                case null: Sb.Append("null"); break;
                case bool b: Sb.Append(b ? "true" : "false"); break;
                case long l: Sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case double d: Sb.Append(Float(d)); break;
                case string s: WriteString(s); break;
                case List<object?> list: WriteSeq(list, level); break;
                case PyTuple t: WriteSeq(t.Items, level); break;
                case PyDict dict: WriteDict(dict, level); break;
                default: throw new PyError($"Object of type {Py.TypeName(v)} is not JSON serializable");
            }
        }

        private static string Float(double d) =>
            double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyFloat.Repr(d);

        private void NewLine(int level)
        {
            if (Indent == null) return;
            Sb.Append('\n');
            for (int i = 0; i < level; i++) Sb.Append(Indent);
        }

        private void WriteSeq(IReadOnlyList<object?> items, int level)
        {
            if (items.Count == 0) { Sb.Append("[]"); return; }
            Sb.Append('[');
            NewLine(level + 1);
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) { Sb.Append(ItemSep); NewLine(level + 1); }
                Write(items[i], level + 1);
            }
            NewLine(level);
            Sb.Append(']');
        }

        private void WriteDict(PyDict dict, int level)
        {
            if (dict.Count == 0) { Sb.Append("{}"); return; }
            IEnumerable<KeyValuePair<object, object?>> entries = dict;
            if (SortKeys) entries = dict.OrderBy(kv => kv.Key, Comparer<object>.Create((a, b) => Py.Compare(a, b)));
            Sb.Append('{');
            NewLine(level + 1);
            bool first = true;
            foreach (var kv in entries)
            {
                if (!first) { Sb.Append(ItemSep); NewLine(level + 1); }
                first = false;
                WriteString(KeyText(kv.Key));
                Sb.Append(KeySep);
                Write(kv.Value, level + 1);
            }
            NewLine(level);
            Sb.Append('}');
        }

        private static string KeyText(object key) => key switch
        {
            string s => s,
            bool b => b ? "true" : "false",
            long l => l.ToString(CultureInfo.InvariantCulture),
            double d => Float(d),
            _ => throw new PyError($"keys must be str, int, float, bool or None, not {Py.TypeName(key)}"),
        };

        private void WriteString(string s)
        {
            Sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': Sb.Append("\\\""); break;
                    case '\\': Sb.Append("\\\\"); break;
                    case '\n': Sb.Append("\\n"); break;
                    case '\r': Sb.Append("\\r"); break;
                    case '\t': Sb.Append("\\t"); break;
                    case '\b': Sb.Append("\\b"); break;
                    case '\f': Sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (EnsureAscii && c > 0x7e))
                            Sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else Sb.Append(c);
                        break;
                }
            }
            Sb.Append('"');
        }
    }
}

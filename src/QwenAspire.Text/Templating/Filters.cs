using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>Jinja2's built-in filters used by chat templates, plus transformers' <c>tojson</c>.</summary>
internal static partial class Filters
{
    public delegate object? Fn(object? value, Args args, RenderContext ctx);

    private static readonly Dictionary<string, Fn> Table = new(StringComparer.Ordinal)
    {
        ["tojson"] = ToJson,
        ["length"] = (v, a, _) => Py.Length(v),
        ["count"] = (v, a, _) => Py.Length(v),
        ["trim"] = (v, a, _) => Methods.Strip(Py.Str(v), a.OptionalString(0, "chars"), true, true),
        ["upper"] = (v, _, _) => Methods.Upper(Py.Str(v)),
        ["lower"] = (v, _, _) => Py.Str(v).ToLowerInvariant(),
        ["capitalize"] = (v, _, _) => Methods.Invoke(Py.Str(v), "capitalize", [], []),
        ["title"] = (v, _, _) => Title(Py.Str(v)),
        ["string"] = (v, _, _) => Py.Str(v),
        ["safe"] = (v, _, _) => v is Undefined ? "" : v,
        ["escape"] = Escape,
        ["e"] = Escape,
        ["join"] = Join,
        ["default"] = Default,
        ["d"] = Default,
        ["first"] = (v, _, _) => FirstOrLast(v, first: true),
        ["last"] = (v, _, _) => FirstOrLast(v, first: false),
        ["items"] = (v, _, _) => v is Undefined ? new List<object?>() : v is PyDict d ? Methods.Invoke(d, "items", [], []) : throw new PyError($"Can only get item pairs from a mapping, not {Py.TypeName(v)}"),
        ["list"] = (v, _, _) => new List<object?>(Py.Iterate(v)),
        ["replace"] = (v, a, _) => Methods.Replace(Py.Str(v), Py.Str(a.Get(0, "old")), Py.Str(a.Get(1, "new")), a.Int(2, "count", -1)),
        ["selectattr"] = (v, a, c) => Select(v, a, c, byAttribute: true, keep: true),
        ["rejectattr"] = (v, a, c) => Select(v, a, c, byAttribute: true, keep: false),
        ["select"] = (v, a, c) => Select(v, a, c, byAttribute: false, keep: true),
        ["reject"] = (v, a, c) => Select(v, a, c, byAttribute: false, keep: false),
        ["map"] = Map,
        ["attr"] = (v, a, _) => Ops.GetAttr(v, a.String(0, "name")),
        ["abs"] = (v, _, _) => v switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), bool b => b ? 1L : 0L, _ => throw new PyError($"bad operand type for abs(): '{Py.TypeName(v)}'") },
        ["int"] = ToInt,
        ["float"] = ToFloat,
        ["round"] = Round,
        ["unique"] = Unique,
        ["sort"] = Sort,
        ["reverse"] = (v, _, _) => v is string s ? PyString.Slice(s, null, null, -1) : Enumerable.Reverse(Py.Iterate(v)).ToList(),
        ["sum"] = Sum,
        ["min"] = (v, a, _) => MinMax(v, a, max: false),
        ["max"] = (v, a, _) => MinMax(v, a, max: true),
        ["indent"] = Indent,
        ["wordcount"] = (v, _, _) => (long)Py.Str(v).Split(PyText.WhitespaceChars, StringSplitOptions.RemoveEmptyEntries).Length,
        ["center"] = (v, a, _) => { var s = Py.Str(v); int w = (int)a.Int(0, "width", 80); int pad = Math.Max(0, w - s.Length); int left = pad / 2 + (pad & w & 1); return new string(' ', left) + s + new string(' ', pad - left); },
    };

    public static Fn? Get(string name) => Table.GetValueOrDefault(name);

    /// <summary>transformers' override: <c>json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)</c>.</summary>
    private static object? ToJson(object? v, Args a, RenderContext _)
    {
        string? itemSep = null, keySep = null;
        if (a.Get(2, "separators") is { } seps and not Undefined)
        {
            var pair = Py.AsSeq(seps);
            if (pair is not { Count: 2 } || pair[0] is not string i || pair[1] is not string k)
                throw new PyError("tojson separators must be a pair of strings");
            (itemSep, keySep) = (i, k);
        }
        return PyJson.Dumps(v, PyJson.IndentArg(a.Get(1, "indent")), itemSep, keySep, a.Bool(3, "sort_keys", false), a.Bool(0, "ensure_ascii", false));
    }

    private static object? Escape(object? v, Args _, RenderContext __) =>
        Py.Str(v).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");

    private static object? Join(object? v, Args a, RenderContext _)
    {
        string sep = a.Get(0, "d", "") is string s ? s : Py.Str(a.Get(0, "d"));
        var attribute = a.Get(1, "attribute");
        var sb = new StringBuilder();
        bool first = true;
        foreach (var item in Py.Iterate(v))
        {
            if (!first) sb.Append(sep);
            first = false;
            sb.Append(Py.Str(attribute is null or Undefined ? item : AttributePath(item, attribute)));
        }
        return sb.ToString();
    }

    private static object? Default(object? v, Args a, RenderContext _)
    {
        bool boolean = a.Bool(1, "boolean", false);
        return v is Undefined || (boolean && !Py.IsTrue(v)) ? a.Get(0, "default_value", "") : v;
    }

    private static object? FirstOrLast(object? v, bool first)
    {
        var items = Py.Iterate(v);
        if (items.Count == 0) return new Undefined($"No {(first ? "first" : "last")} item, sequence was empty.");
        return first ? items[0] : items[^1];
    }

    /// <summary>Jinja's attribute paths: <c>"function.name"</c> walks dots, digits index lists.</summary>
    public static object? AttributePath(object? item, object? attribute, bool hasDefault = false, object? fallback = null)
    {
        if (attribute is long l) return Ops.GetItem(item, l);
        foreach (var part in Py.Str(attribute).Split('.'))
        {
            item = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long idx) ? Ops.GetItem(item, idx) : Ops.GetItem(item, part);
            if (hasDefault && item is Undefined) item = fallback;
        }
        return item;
    }

    private static object? Select(object? v, Args a, RenderContext ctx, bool byAttribute, bool keep)
    {
        int next = 0;
        object? attribute = byAttribute ? a.Get(next++, "attribute") : null;
        Tests.Fn test = (x, _) => Py.IsTrue(x);
        var testArgs = new List<object?>();
        if (a.Count > next)
        {
            string name = a.String(next, "test");
            test = Tests.Get(name) ?? throw new PyError($"No test named '{name}'.");
            for (int i = next + 1; i < a.Count; i++) testArgs.Add(a.Get(i, ""));
        }
        var result = new List<object?>();
        foreach (var item in Py.Iterate(v))
        {
            var subject = byAttribute ? AttributePath(item, attribute) : item;
            if (test(subject, testArgs) == keep) result.Add(item);
        }
        return result;
    }

    private static object? Map(object? v, Args a, RenderContext ctx)
    {
        var items = Py.Iterate(v);
        if (a.Has(-1, "attribute"))
        {
            var attribute = a.Get(-1, "attribute");
            bool hasDefault = a.Has(-1, "default");
            var fallback = a.Get(-1, "default");
            return items.Select(x => AttributePath(x, attribute, hasDefault, fallback)).ToList();
        }
        string name = a.String(0, "filter");
        var filter = Get(name) ?? throw new PyError($"No filter named '{name}'.");
        var rest = new List<object?>();
        for (int i = 1; i < a.Count; i++) rest.Add(a.Get(i, ""));
        return items.Select(x => filter(x, new Args(name, rest, []), ctx)).ToList();
    }
}

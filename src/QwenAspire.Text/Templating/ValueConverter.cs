using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.Text.Templating;

/// <summary>
/// Turns caller values (System.Text.Json nodes/elements, plain .NET) into the runtime's Python-like values.
/// JSON numbers written with '.', 'e' or 'E' become floats and others ints, as Python's json.loads does.
/// </summary>
internal static class ValueConverter
{
    public static object? From(object? value) => value switch
    {
        null => null,
        string or bool or long or double => value,
        int i => (long)i,
        JsonNode node => FromNode(node),
        JsonElement e => FromElement(e),
        PyDict or PyTuple or Namespace or Undefined => value,
        short or byte or sbyte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        ulong u => u <= long.MaxValue ? (long)u : (double)u,
        float f => (double)f,
        decimal m => decimal.Truncate(m) == m && Math.Abs(m) < 9e18m ? (long)m : (double)m,
        char c => c.ToString(),
        Enum en => en.ToString(),
        IDictionary<string, object?> d => FromPairs(d.Select(kv => (kv.Key, kv.Value)), d.Count),
        IReadOnlyDictionary<string, object?> d => FromPairs(d.Select(kv => (kv.Key, kv.Value)), d.Count),
        IDictionary d => FromPairs(d.Keys.Cast<object>().Select(k => (Convert.ToString(k, CultureInfo.InvariantCulture)!, d[k])), d.Count),
        IEnumerable list => list.Cast<object?>().Select(From).ToList(),
        _ => throw new ArgumentException($"Template variables cannot hold values of type {value.GetType().FullName}."),
    };

    private static PyDict FromPairs(IEnumerable<(string Key, object? Value)> pairs, int count)
    {
        var d = new PyDict(count);
        foreach (var (k, v) in pairs) d[k] = From(v);
        return d;
    }

    private static object? FromNode(JsonNode? node)
    {
        switch (node)
        {
            case null: return null;
            case JsonObject o:
                var d = new PyDict(o.Count);
                foreach (var kv in o) d[kv.Key] = FromNode(kv.Value);
                return d;
            case JsonArray a:
                var list = new List<object?>(a.Count);
                foreach (var item in a) list.Add(FromNode(item));
                return list;
            case JsonValue v:
                if (v.TryGetValue(out JsonElement e)) return FromElement(e);
                return From(v.GetValue<object>());
            default: throw new ArgumentException($"Unsupported JSON node {node.GetType().Name}.");
        }
    }

    private static object? FromElement(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined: return null;
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number:
                string raw = e.GetRawText();
                if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0 && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
                return double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
            case JsonValueKind.Array:
                var list = new List<object?>(e.GetArrayLength());
                foreach (var item in e.EnumerateArray()) list.Add(FromElement(item));
                return list;
            default:
                var d = new PyDict();
                foreach (var p in e.EnumerateObject()) d[p.Name] = FromElement(p.Value);
                return d;
        }
    }
}

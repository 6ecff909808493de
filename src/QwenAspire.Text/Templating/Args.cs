namespace QwenAspire.Text.Templating;

/// <summary>Binds call arguments (positional then keyword) to named parameters, Python style.</summary>
internal readonly struct Args(string function, List<object?> positional, List<KeyValuePair<string, object?>> keywords)
{
    private static readonly object Missing = new();

    public int Count => positional.Count;

    /// <summary>The argument at <paramref name="index"/> or named <paramref name="name"/>, else <paramref name="fallback"/>.</summary>
    public object? Get(int index, string name, object? fallback = null)
    {
        object? v = Find(index, name);
        return ReferenceEquals(v, Missing) ? fallback : v;
    }

    public bool Has(int index, string name) => !ReferenceEquals(Find(index, name), Missing);

    private object? Find(int index, string name)
    {
        if (index >= 0 && index < positional.Count) return positional[index];
        foreach (var kv in keywords)
            if (kv.Key == name) return kv.Value;
        return Missing;
    }

    public string String(int index, string name, string? fallback = null)
    {
        object? v = Get(index, name, fallback);
        return v as string ?? throw new PyError($"{function}() argument '{name}' must be str, not {Py.TypeName(v)}");
    }

    public string? OptionalString(int index, string name)
    {
        object? v = Get(index, name);
        return v is null or Undefined ? null : v as string ?? throw new PyError($"{function}() argument '{name}' must be str or None, not {Py.TypeName(v)}");
    }

    public long Int(int index, string name, long fallback)
    {
        object? v = Get(index, name, fallback);
        return v switch
        {
            long l => l,
            bool b => b ? 1 : 0,
            null => fallback,
            _ => throw new PyError($"{function}() argument '{name}' must be int, not {Py.TypeName(v)}"),
        };
    }

    public bool Bool(int index, string name, bool fallback) => Has(index, name) ? Py.IsTrue(Get(index, name)) : fallback;

    public void Max(int count)
    {
        if (positional.Count > count)
            throw new PyError($"{function}() takes at most {count} positional argument{(count == 1 ? "" : "s")} ({positional.Count} given)");
    }
}

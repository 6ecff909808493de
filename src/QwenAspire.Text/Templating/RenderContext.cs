namespace QwenAspire.Text.Templating;

/// <summary>One variable scope: the template root, a loop iteration, a macro call.</summary>
/// <remarks>Scopes hold a handful of names, so parallel arrays searched linearly beat a dictionary.</remarks>
internal sealed class Frame(Frame? parent, Dictionary<string, object?>? vars = null)
{
    public Frame? Parent { get; } = parent;
    private readonly Dictionary<string, object?>? _vars = vars;
    private string[]? _names;
    private object?[]? _values;
    private int _count;

    public bool TryGet(string name, out object? value)
    {
        for (var f = this; f != null; f = f.Parent)
        {
            for (int i = 0; i < f._count; i++)
            {
                string n = f._names![i];
                if (ReferenceEquals(n, name) || (n.Length == name.Length && string.Equals(n, name, StringComparison.Ordinal)))
                {
                    value = f._values![i];
                    return true;
                }
            }
            if (f._vars != null && f._vars.TryGetValue(name, out value)) return true;
        }
        value = null;
        return false;
    }

    public void Set(string name, object? value)
    {
        for (int i = 0; i < _count; i++)
            if (string.Equals(_names![i], name, StringComparison.Ordinal)) { _values![i] = value; return; }
        if (_names == null) { _names = new string[4]; _values = new object?[4]; }
        else if (_count == _names.Length)
        {
            Array.Resize(ref _names, _count * 2);
            Array.Resize(ref _values, _count * 2);
        }
        _names[_count] = name;
        _values![_count++] = value;
    }
}

/// <summary>State of one render: the current scope and the template's source map for error positions.</summary>
internal sealed class RenderContext(SourceMap map, Frame root)
{
    public SourceMap Map { get; } = map;
    public Frame Frame { get; set; } = root;

    public const int MaxCallDepth = 100;

    /// <summary>Macro calls in progress (bounded so recursion fails cleanly).</summary>
    public int CallDepth { get; set; }

    /// <summary>The rendered body a block filter is working on.</summary>
    public object? Hole { get; set; }

    public object? Lookup(string name, Undefined missing)
    {
        if (Frame.TryGet(name, out var v)) return v;
        return Globals.Functions.TryGetValue(name, out var g) ? g : missing;
    }

    /// <summary>Turns an error raised by a value operation into one that names the template position.</summary>
    public TemplateException Error(Exception e, int pos)
    {
        if (e is TemplateException te) return te;
        var (line, col) = Map.Locate(pos);
        return e switch
        {
            RaiseSignal r => new TemplateRaiseException(r.Message, Map.Name, line, col),
            PyError p => new TemplateRuntimeException(p.Message, Map.Name, line, col),
            OverflowException => new TemplateRuntimeException("integer overflow", Map.Name, line, col, e),
            _ => new TemplateRuntimeException($"{e.GetType().Name}: {e.Message}", Map.Name, line, col, e),
        };
    }
}

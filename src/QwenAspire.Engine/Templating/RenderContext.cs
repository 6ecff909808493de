namespace QwenAspire.Engine.Templating;

/// <summary>One variable scope: the template root, a loop iteration, a macro call.</summary>
internal sealed class Frame(Frame? parent, Dictionary<string, object?>? vars = null)
{
    public Frame? Parent { get; } = parent;
    private Dictionary<string, object?>? _vars = vars;

    public bool TryGet(string name, out object? value)
    {
        for (var f = this; f != null; f = f.Parent)
            if (f._vars != null && f._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => (_vars ??= new Dictionary<string, object?>(StringComparer.Ordinal))[name] = value;
}

/// <summary>State of one render: the current scope and the template's source map for error positions.</summary>
internal sealed class RenderContext(SourceMap map, Frame root)
{
    public SourceMap Map { get; } = map;
    public Frame Frame { get; set; } = root;

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

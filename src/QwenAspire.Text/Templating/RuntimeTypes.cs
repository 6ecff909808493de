namespace QwenAspire.Text.Templating;

/// <summary>Jinja's default Undefined: prints as '', is falsy, iterates as empty, fails on any other use.</summary>
internal sealed class Undefined(string hint)
{
    public static readonly Undefined Instance = new("value is undefined");

    /// <summary>Jinja's wording, e.g. "'foo' is undefined" or "'dict object' has no attribute 'x'".</summary>
    public string Hint { get; } = hint;

    public PyError Fail() => new(Hint);
}

/// <summary>The object made by <c>namespace(...)</c>: the one thing whose attributes a template may assign.</summary>
internal sealed class Namespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Anything a template can call: globals, macros, bound string/dict methods, <c>loop.cycle</c>.</summary>
internal interface ICallable
{
    object? Call(List<object?> args, List<KeyValuePair<string, object?>> kwargs, RenderContext ctx);
}

internal sealed class BuiltinFunction(string name, Func<List<object?>, List<KeyValuePair<string, object?>>, RenderContext, object?> body) : ICallable
{
    public string Name { get; } = name;

    public object? Call(List<object?> args, List<KeyValuePair<string, object?>> kwargs, RenderContext ctx) => body(args, kwargs, ctx);
}

/// <summary>A method looked up on a value (<c>content.startswith</c>, <c>message.get</c>) waiting to be called.</summary>
internal sealed class BoundMethod(object target, string name) : ICallable
{
    public object Target { get; } = target;
    public string Name { get; } = name;

    public object? Call(List<object?> args, List<KeyValuePair<string, object?>> kwargs, RenderContext ctx) =>
        Methods.Invoke(Target, Name, args, kwargs);
}

/// <summary>The <c>loop</c> variable inside a for block.</summary>
internal sealed class LoopContext(List<object?> items)
{
    public List<object?> Items { get; } = items;
    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(Items.Count - Index0),
        "revindex0" => (long)(Items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Items.Count - 1,
        "length" => (long)Items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? Items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 < Items.Count - 1 ? Items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new BuiltinFunction("cycle", (args, _, _) =>
            args.Count == 0 ? throw new PyError("no items for cycling given") : args[Index0 % args.Count]),
        "changed" => new BuiltinFunction("changed", (_, _, _) => throw new PyError("loop.changed is not supported")),
        _ => new Undefined($"'LoopContext' object has no attribute '{name}'"),
    };
}

/// <summary>A tuple value (from <c>items()</c>, tuple literals); prints with parentheses like Python.</summary>
internal sealed class PyTuple(object?[] items)
{
    public object?[] Items { get; } = items;
}

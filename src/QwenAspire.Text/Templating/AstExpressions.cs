namespace QwenAspire.Text.Templating;

internal abstract class Expr(int pos)
{
    /// <summary>Offset in the normalized source, for error positions.</summary>
    public int Pos { get; } = pos;

    public abstract object? Eval(RenderContext ctx);

    // Boxed once: comparisons and tests return these instead of boxing a new bool each time.
    protected static readonly object True = true, False = false;
}

internal sealed class Const(int pos, object? value) : Expr(pos)
{
    public object? Value { get; } = value;
    public override object? Eval(RenderContext ctx) => Value;
}

/// <summary>The value a block filter is applied to (<c>{% filter upper %}</c>).</summary>
internal sealed class HoleExpr(int pos) : Expr(pos)
{
    public override object? Eval(RenderContext ctx) => ctx.Hole;
}

internal sealed class NameExpr(int pos, string name) : Expr(pos)
{
    private readonly Undefined _missing = new($"'{name}' is undefined");
    public string Name { get; } = name;
    public override object? Eval(RenderContext ctx) => ctx.Lookup(Name, _missing);
}

internal sealed class GetAttrExpr(int pos, Expr target, string name) : Expr(pos)
{
    public Expr Target { get; } = target;
    public string Name { get; } = name;

    public override object? Eval(RenderContext ctx)
    {
        var obj = Target.Eval(ctx);
        try { return Ops.GetAttr(obj, Name); }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
}

internal sealed class GetItemExpr(int pos, Expr target, Expr key) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var obj = target.Eval(ctx);
        var k = key.Eval(ctx);
        try { return Ops.GetItem(obj, k); }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
}

internal sealed class SliceExpr(int pos, Expr target, Expr? start, Expr? stop, Expr? step) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var obj = target.Eval(ctx);
        var a = start?.Eval(ctx);
        var b = stop?.Eval(ctx);
        var c = step?.Eval(ctx);
        try { return Ops.Slice(obj, a, b, c); }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
}

/// <summary>Arguments of a call, filter or test, evaluated per use.</summary>
internal sealed class ArgList(List<Expr> positional, List<KeyValuePair<string, Expr>> keywords)
{
    public static readonly ArgList Empty = new([], []);

    public List<Expr> Positional { get; } = positional;
    public List<KeyValuePair<string, Expr>> Keywords { get; } = keywords;

    // Shared, never mutated: callees only read their arguments.
    private static readonly List<KeyValuePair<string, object?>> NoKeywords = [];
    private static readonly List<object?> NoArgs = [];

    public (List<object?> Args, List<KeyValuePair<string, object?>> Kwargs) Eval(RenderContext ctx)
    {
        if (Positional.Count == 0 && Keywords.Count == 0) return (NoArgs, NoKeywords);
        if (Keywords.Count == 0)
        {
            var only = new List<object?>(Positional.Count);
            foreach (var e in Positional) only.Add(e.Eval(ctx));
            return (only, NoKeywords);
        }
        var args = new List<object?>(Positional.Count);
        foreach (var e in Positional) args.Add(e.Eval(ctx));
        var kwargs = new List<KeyValuePair<string, object?>>(Keywords.Count);
        foreach (var kv in Keywords) kwargs.Add(new(kv.Key, kv.Value.Eval(ctx)));
        return (args, kwargs);
    }
}

internal sealed class CallExpr(int pos, Expr callee, ArgList args) : Expr(pos)
{
    public Expr Callee { get; } = callee;
    public ArgList Arguments { get; } = args;

    public override object? Eval(RenderContext ctx)
    {
        var fn = Callee.Eval(ctx);
        var (a, kw) = Arguments.Eval(ctx);
        try
        {
            return fn switch
            {
                ICallable f => f.Call(a, kw, ctx),
                Undefined u => throw u.Fail(),
                _ => throw new PyError($"'{Py.TypeName(fn)}' object is not callable"),
            };
        }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
}

internal sealed class FilterExpr(int pos, Expr target, string name, Filters.Fn fn, ArgList args) : Expr(pos)
{
    public string Name { get; } = name;

    public override object? Eval(RenderContext ctx)
    {
        var v = target.Eval(ctx);
        var (a, kw) = args.Eval(ctx);
        try { return fn(v, new Args(Name, a, kw), ctx); }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
}

internal sealed class TestExpr(int pos, Expr target, string name, Tests.Fn fn, ArgList args, bool negate) : Expr(pos)
{
    public string Name { get; } = name;

    public override object? Eval(RenderContext ctx)
    {
        var v = target.Eval(ctx);
        var (a, _) = args.Eval(ctx);
        try { return fn(v, a) != negate ? True : False; }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
}

internal sealed class ListExpr(int pos, List<Expr> items, bool tuple) : Expr(pos)
{
    public List<Expr> Items { get; } = items;
    public bool IsTuple { get; } = tuple;

    public override object? Eval(RenderContext ctx)
    {
        var values = new List<object?>(Items.Count);
        foreach (var e in Items) values.Add(e.Eval(ctx));
        return IsTuple ? new PyTuple([.. values]) : values;
    }
}

internal sealed class DictExpr(int pos, List<(Expr Key, Expr Value)> items) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var d = new PyDict(items.Count);
        foreach (var (k, v) in items)
        {
            var key = k.Eval(ctx);
            object k2;
            try { k2 = PyDict.Key(key); }
            catch (PyError e) { throw ctx.Error(e, Pos); }
            d[k2] = v.Eval(ctx);
        }
        return d;
    }
}

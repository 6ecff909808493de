namespace QwenAspire.Engine.Templating;

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

internal sealed class NotExpr(int pos, Expr operand) : Expr(pos)
{
    public override object? Eval(RenderContext ctx) => Py.IsTrue(operand.Eval(ctx)) ? False : True;
}

internal sealed class NegExpr(int pos, Expr operand, bool negative) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var v = operand.Eval(ctx);
        return v switch
        {
            long l => (object)(negative ? -l : l),
            double d => negative ? -d : d,
            bool b => negative ? -(b ? 1L : 0L) : (b ? 1L : 0L),
            Undefined u => throw ctx.Error(u.Fail(), Pos),
            _ => throw ctx.Error(new PyError($"bad operand type for unary {(negative ? '-' : '+')}: '{Py.TypeName(v)}'"), Pos),
        };
    }
}

internal sealed class BinaryExpr(int pos, string op, Expr left, Expr right) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var a = left.Eval(ctx);
        var b = right.Eval(ctx);
        try { return Ops.Binary(op, a, b); }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
}

/// <summary>
/// <c>a + b + c …</c> evaluated left to right like Python, but when the operands are strings the result is
/// built in one concatenation instead of one intermediate string per '+'.
/// </summary>
internal sealed class AddChainExpr(int pos, List<Expr> operands, List<int> opPositions) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        object? first = operands[0].Eval(ctx);
        if (first is string s0)
        {
            var parts = new string[operands.Count];
            parts[0] = s0;
            for (int i = 1; i < operands.Count; i++)
            {
                var v = operands[i].Eval(ctx);
                if (v is string s) { parts[i] = s; continue; }
                string soFar = string.Concat(parts.AsSpan(0, i));
                try { return AddRest(ctx, Ops.Binary("+", soFar, v), i + 1); }
                catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, opPositions[i]); }
            }
            return string.Concat(parts);
        }
        return AddRest(ctx, first, 1);
    }

    private object? AddRest(RenderContext ctx, object? acc, int from)
    {
        for (int i = from; i < operands.Count; i++)
        {
            var v = operands[i].Eval(ctx);
            try { acc = Ops.Binary("+", acc, v); }
            catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, opPositions[i]); }
        }
        return acc;
    }
}

/// <summary>The <c>~</c> operator: both sides through str(), undefined as ''.</summary>
internal sealed class ConcatExpr(int pos, List<Expr> parts) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var p in parts) sb.Append(Py.Str(p.Eval(ctx)));
        return sb.ToString();
    }
}

internal sealed class AndExpr(int pos, Expr left, Expr right) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var a = left.Eval(ctx);
        return Py.IsTrue(a) ? right.Eval(ctx) : a;
    }
}

internal sealed class OrExpr(int pos, Expr left, Expr right) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var a = left.Eval(ctx);
        return Py.IsTrue(a) ? a : right.Eval(ctx);
    }
}

/// <summary>A comparison chain <c>a &lt; b &lt;= c</c>, including <c>in</c> and <c>not in</c>.</summary>
internal sealed class CompareExpr(int pos, Expr first, List<(string Op, Expr Right)> rest) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var left = first.Eval(ctx);
        foreach (var (op, rightExpr) in rest)
        {
            var right = rightExpr.Eval(ctx);
            bool ok;
            try { ok = Compare(op, left, right); }
            catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
            if (!ok) return False;
            left = right;
        }
        return True;
    }

    private static bool Compare(string op, object? a, object? b) => op switch
    {
        "==" => Py.Equal(a, b),
        "!=" => !Py.Equal(a, b),
        "in" => Py.Contains(b, a),
        "notin" => !Py.Contains(b, a),
        "<" => Py.Compare(a, b, op) < 0,
        "<=" => Py.Compare(a, b, op) <= 0,
        ">" => Py.Compare(a, b, op) > 0,
        _ => Py.Compare(a, b, op) >= 0,
    };
}

internal sealed class CondExpr(int pos, Expr test, Expr then, Expr? otherwise) : Expr(pos)
{
    public override object? Eval(RenderContext ctx) =>
        Py.IsTrue(test.Eval(ctx)) ? then.Eval(ctx) : otherwise != null ? otherwise.Eval(ctx) : new Undefined("the inline if-expression evaluated to false and no else section was defined");
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

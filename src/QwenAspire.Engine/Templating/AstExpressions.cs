namespace QwenAspire.Engine.Templating;

internal abstract class Expr(int pos)
{
    /// <summary>Offset in the normalized source, for error positions.</summary>
    public int Pos { get; } = pos;

    public abstract object? Eval(RenderContext ctx);

    /// <summary>Evaluates, turning value-level errors into positioned template errors.</summary>
    protected object? Guard<TState>(RenderContext ctx, TState state, Func<RenderContext, TState, object?> op)
    {
        try { return op(ctx, state); }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
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

    public override object? Eval(RenderContext ctx) =>
        Guard(ctx, Target.Eval(ctx), (_, obj) => Ops.GetAttr(obj, Name));
}

internal sealed class GetItemExpr(int pos, Expr target, Expr key) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var obj = target.Eval(ctx);
        var k = key.Eval(ctx);
        return Guard(ctx, (obj, k), static (_, s) => Ops.GetItem(s.obj, s.k));
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
        return Guard(ctx, (obj, a, b, c), static (_, s) => Ops.Slice(s.obj, s.a, s.b, s.c));
    }
}

/// <summary>Arguments of a call, filter or test, evaluated per use.</summary>
internal sealed class ArgList(List<Expr> positional, List<KeyValuePair<string, Expr>> keywords)
{
    public static readonly ArgList Empty = new([], []);

    public List<Expr> Positional { get; } = positional;
    public List<KeyValuePair<string, Expr>> Keywords { get; } = keywords;

    public (List<object?> Args, List<KeyValuePair<string, object?>> Kwargs) Eval(RenderContext ctx)
    {
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
        return Guard(ctx, (fn, a, kw), static (c, s) => s.fn switch
        {
            ICallable f => f.Call(s.a, s.kw, c),
            Undefined u => throw u.Fail(),
            _ => throw new PyError($"'{Py.TypeName(s.fn)}' object is not callable"),
        });
    }
}

internal sealed class FilterExpr(int pos, Expr target, string name, Filters.Fn fn, ArgList args) : Expr(pos)
{
    public string Name { get; } = name;

    public override object? Eval(RenderContext ctx)
    {
        var v = target.Eval(ctx);
        var (a, kw) = args.Eval(ctx);
        return Guard(ctx, (v, a, kw), (c, s) => fn(s.v, new Args(Name, s.a, s.kw), c));
    }
}

internal sealed class TestExpr(int pos, Expr target, string name, Tests.Fn fn, ArgList args, bool negate) : Expr(pos)
{
    public string Name { get; } = name;

    public override object? Eval(RenderContext ctx)
    {
        var v = target.Eval(ctx);
        var (a, _) = args.Eval(ctx);
        return Guard(ctx, (v, a), (c, s) => fn(s.v, s.a) != negate);
    }
}

internal sealed class NotExpr(int pos, Expr operand) : Expr(pos)
{
    public override object? Eval(RenderContext ctx) => !Py.IsTrue(operand.Eval(ctx));
}

internal sealed class NegExpr(int pos, Expr operand, bool negative) : Expr(pos)
{
    public override object? Eval(RenderContext ctx) => Guard(ctx, operand.Eval(ctx), (_, v) => v switch
    {
        long l => (object)(negative ? -l : l),
        double d => negative ? -d : d,
        bool b => negative ? -(b ? 1L : 0L) : (b ? 1L : 0L),
        Undefined u => throw u.Fail(),
        _ => throw new PyError($"bad operand type for unary {(negative ? '-' : '+')}: '{Py.TypeName(v)}'"),
    });
}

internal sealed class BinaryExpr(int pos, string op, Expr left, Expr right) : Expr(pos)
{
    public override object? Eval(RenderContext ctx)
    {
        var a = left.Eval(ctx);
        var b = right.Eval(ctx);
        return Guard(ctx, (a, b), (_, s) => Ops.Binary(op, s.a, s.b));
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
            bool ok = (bool)Guard(ctx, (left, right), (_, s) => Compare(op, s.left, s.right))!;
            if (!ok) return false;
            left = right;
        }
        return true;
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
            d[Guard(ctx, key, (_, x) => PyDict.Key(x))!] = v.Eval(ctx);
        }
        return d;
    }
}

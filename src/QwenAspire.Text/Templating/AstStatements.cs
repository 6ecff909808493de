using System.Text;

namespace QwenAspire.Text.Templating;

internal enum Flow { Normal, Break, Continue }

internal abstract class Stmt(int pos)
{
    public int Pos { get; } = pos;

    public abstract Flow Render(RenderContext ctx, StringBuilder sb);

    public static Flow RenderAll(List<Stmt> body, RenderContext ctx, StringBuilder sb)
    {
        foreach (var s in body)
        {
            var flow = s.Render(ctx, sb);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    protected void Assign(RenderContext ctx, AssignTarget target, Frame frame, object? value)
    {
        try { target.Assign(ctx, frame, value); }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
    }
}

internal sealed class TextStmt(int pos, string text) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        sb.Append(text);
        return Flow.Normal;
    }
}

internal sealed class OutputStmt(int pos, Expr expr) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        var v = expr.Eval(ctx);
        if (v is string s) sb.Append(s);
        else sb.Append(Py.Str(v));
        return Flow.Normal;
    }
}

internal sealed class IfStmt(int pos, List<(Expr Test, List<Stmt> Body)> branches, List<Stmt>? otherwise) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        foreach (var (test, body) in branches)
            if (Py.IsTrue(test.Eval(ctx))) return RenderAll(body, ctx, sb);
        return otherwise != null ? RenderAll(otherwise, ctx, sb) : Flow.Normal;
    }
}

/// <summary>Where a value is stored: a name, a tuple of names (unpacking) or <c>ns.attr</c>.</summary>
internal sealed class AssignTarget(string? name, List<string>? names, string? nsAttr)
{
    public static AssignTarget Name(string name) => new(name, null, null);
    public static AssignTarget Tuple(List<string> names) => new(null, names, null);
    public static AssignTarget Attribute(string ns, string attr) => new(ns, null, attr);

    public void Assign(RenderContext ctx, Frame frame, object? value)
    {
        if (names != null)
        {
            var items = Py.Iterate(value);
            if (items.Count != names.Count)
                throw new PyError($"cannot unpack {items.Count} values into {names.Count} names");
            for (int i = 0; i < names.Count; i++) frame.Set(names[i], items[i]);
        }
        else if (nsAttr != null)
        {
            var target = ctx.Lookup(name!, new Undefined($"'{name}' is undefined"));
            if (target is not Namespace ns) throw new PyError("cannot assign attribute on non-namespace object");
            ns.Attributes[nsAttr] = value;
        }
        else frame.Set(name!, value);
    }
}

internal sealed class SetStmt(int pos, AssignTarget target, Expr value) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        var v = value.Eval(ctx);
        Assign(ctx, target, ctx.Frame, v);
        return Flow.Normal;
    }
}

/// <summary><c>{% set x %}…{% endset %}</c>, optionally through a filter.</summary>
internal sealed class SetBlockStmt(int pos, AssignTarget target, List<Stmt> body, Func<RenderContext, object?, object?>? filter) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        var inner = new StringBuilder();
        RenderAll(body, ctx, inner);
        object? v = inner.ToString();
        if (filter != null) v = filter(ctx, v);
        Assign(ctx, target, ctx.Frame, v);
        return Flow.Normal;
    }
}

internal sealed class ForStmt(int pos, AssignTarget target, Expr iter, Expr? condition, List<Stmt> body, List<Stmt>? otherwise) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        var source = iter.Eval(ctx);
        List<object?> items;
        try { items = Py.Iterate(source); }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
        var outer = ctx.Frame;
        if (condition != null) items = Filtered(ctx, outer, items);
        var loop = new LoopContext(items);
        try
        {
            for (int i = 0; i < items.Count; i++)
            {
                var frame = new Frame(outer);
                frame.Set("loop", loop);
                loop.Index0 = i;
                Assign(ctx, target, frame, items[i]);
                ctx.Frame = frame;
                if (RenderAll(body, ctx, sb) == Flow.Break) break;
            }
        }
        finally { ctx.Frame = outer; }
        return items.Count == 0 && otherwise != null ? RenderAll(otherwise, ctx, sb) : Flow.Normal;
    }

    /// <summary>The <c>for x in y if cond</c> filter runs before the loop, so loop.length counts only kept items.</summary>
    private List<object?> Filtered(RenderContext ctx, Frame outer, List<object?> items)
    {
        var kept = new List<object?>();
        try
        {
            foreach (var item in items)
            {
                var frame = new Frame(outer);
                Assign(ctx, target, frame, item);
                ctx.Frame = frame;
                if (Py.IsTrue(condition!.Eval(ctx))) kept.Add(item);
            }
        }
        finally { ctx.Frame = outer; }
        return kept;
    }
}

internal sealed class LoopControlStmt(int pos, Flow flow) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb) => flow;
}

/// <summary>Renders its body through a filter: <c>{% filter upper %}</c>; also transformers' <c>{% generation %}</c> (pass-through).</summary>
internal sealed class BlockStmt(int pos, List<Stmt> body, Func<RenderContext, object?, object?>? filter) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        if (filter == null) return RenderAll(body, ctx, sb);
        var inner = new StringBuilder();
        var flow = RenderAll(body, ctx, inner);
        sb.Append(Py.Str(filter(ctx, inner.ToString())));
        return flow;
    }
}

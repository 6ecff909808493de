namespace QwenAspire.Text.Templating;

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

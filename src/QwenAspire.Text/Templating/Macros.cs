using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>A macro's parameters and body, as parsed.</summary>
internal sealed class MacroDef(string name, List<(string Name, Expr? Default)> parameters, List<Stmt> body)
{
    public string Name { get; } = name;
    public List<(string Name, Expr? Default)> Parameters { get; } = parameters;
    public List<Stmt> Body { get; } = body;
}

/// <summary>A macro bound to the scope it was defined in; calling it renders the body to a string.</summary>
internal sealed class Macro(MacroDef def, Frame closure, Macro? caller = null) : ICallable
{
    public object? Call(List<object?> args, List<KeyValuePair<string, object?>> kwargs, RenderContext ctx)
    {
        // A self-recursive macro would otherwise end in a StackOverflow, which kills the process.
        if (++ctx.CallDepth > RenderContext.MaxCallDepth)
        {
            ctx.CallDepth--;
            throw new PyError("maximum recursion depth exceeded in macro calls");
        }
        try { return Invoke(args, kwargs, ctx); }
        finally { ctx.CallDepth--; }
    }

    private object? Invoke(List<object?> args, List<KeyValuePair<string, object?>> kwargs, RenderContext ctx)
    {
        var frame = new Frame(closure);
        var ps = def.Parameters;
        if (args.Count > ps.Count) throw new PyError($"macro '{def.Name}' takes not more than {ps.Count} argument(s)");
        var saved = ctx.Frame;
        ctx.Frame = frame;
        try
        {
            for (int i = 0; i < ps.Count; i++)
            {
                object? value;
                if (i < args.Count) value = args[i];
                else
                {
                    int k = kwargs.FindIndex(kv => kv.Key == ps[i].Name);
                    value = k >= 0 ? kwargs[k].Value : ps[i].Default != null ? ps[i].Default!.Eval(ctx) : new Undefined($"parameter '{ps[i].Name}' was not provided");
                }
                frame.Set(ps[i].Name, value);
            }
            foreach (var kv in kwargs)
                if (!ps.Exists(p => p.Name == kv.Key) && !(kv.Key == "caller" && caller == null))
                    throw new PyError($"macro '{def.Name}' takes no keyword argument '{kv.Key}'");
            if (caller != null) frame.Set("caller", caller);
            var sb = new StringBuilder();
            Stmt.RenderAll(def.Body, ctx, sb);
            return sb.ToString();
        }
        finally { ctx.Frame = saved; }
    }

    /// <summary>A copy of this macro that exposes <paramref name="callerMacro"/> as <c>caller</c>.</summary>
    public Macro WithCaller(Macro callerMacro) => new(def, closure, callerMacro);
}

internal sealed class MacroStmt(int pos, MacroDef def) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        ctx.Frame.Set(def.Name, new Macro(def, ctx.Frame));
        return Flow.Normal;
    }
}

/// <summary><c>{% call m(args) %}body{% endcall %}</c>: calls m with the body available as <c>caller()</c>.</summary>
internal sealed class CallBlockStmt(int pos, Expr callee, ArgList args, MacroDef callerDef) : Stmt(pos)
{
    public override Flow Render(RenderContext ctx, StringBuilder sb)
    {
        var fn = callee.Eval(ctx);
        var (a, kw) = args.Eval(ctx);
        object? result;
        try
        {
            if (fn is not Macro m) throw new PyError("{% call %} needs a macro");
            result = m.WithCaller(new Macro(callerDef, ctx.Frame)).Call(a, kw, ctx);
        }
        catch (Exception e) when (e is not TemplateException) { throw ctx.Error(e, Pos); }
        sb.Append(Py.Str(result));
        return Flow.Normal;
    }
}

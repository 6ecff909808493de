namespace QwenAspire.Text.Templating;

/// <summary>Expression grammar, with Jinja2's precedence (parser.py): condexpr → or → and → not → compare → + - → ~ → * / // % → ** → unary → filters/tests.</summary>
internal sealed partial class Parser
{
    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", "<=", ">", ">="];

    /// <summary>An expression, or a tuple when commas follow (<c>{{ a, b }}</c>, <c>for k, v in …</c>).</summary>
    private Expr ParseTuple(bool withCondExpr = true)
    {
        int pos = Current.Pos;
        var first = withCondExpr ? ParseExpression() : ParseOr();
        if (!IsOp(",")) return first;
        var items = new List<Expr> { first };
        while (SkipOp(","))
        {
            if (Current.Kind is TokenKind.BlockEnd or TokenKind.VarEnd || IsOp(")") || IsName("if")) break;
            items.Add(withCondExpr ? ParseExpression() : ParseOr());
        }
        return new ListExpr(pos, items, tuple: true);
    }

    private Expr ParseExpression()
    {
        Enter();
        try { return ParseConditional(); }
        finally { _depth--; }
    }

    private Expr ParseConditional()
    {
        var expr = ParseOr();
        while (IsName("if"))
        {
            int pos = Next().Pos;
            var test = ParseOr();
            Expr? otherwise = SkipName("else") ? ParseExpression() : null;
            expr = new CondExpr(pos, test, expr, otherwise);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (IsName("or")) { int pos = Next().Pos; left = new OrExpr(pos, left, ParseAnd()); }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (IsName("and")) { int pos = Next().Pos; left = new AndExpr(pos, left, ParseNot()); }
        return left;
    }

    private Expr ParseNot()
    {
        if (!IsName("not")) return ParseCompare();
        int pos = Next().Pos;
        Enter();
        try { return new NotExpr(pos, ParseNot()); }
        finally { _depth--; }
    }

    private Expr ParseCompare()
    {
        int pos = Current.Pos;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Value)) { string op = Next().Value; rest.Add((op, ParseMath1())); }
            else if (SkipName("in")) rest.Add(("in", ParseMath1()));
            else if (IsName("not") && Peek().Kind == TokenKind.Name && Peek().Value == "in") { _i += 2; rest.Add(("notin", ParseMath1())); }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(pos, first, rest);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        List<Expr>? chain = null;
        List<int>? positions = null;
        while (IsOp("+") || IsOp("-"))
        {
            var op = Next();
            var right = ParseConcat();
            if (op.Value == "+" && (chain != null || left is not BinaryExpr))
            {
                // Runs of '+' (prompt building: 'a' + role + '\n' + content + …) concatenate once.
                chain ??= [left];
                positions ??= [left.Pos];
                chain.Add(right);
                positions.Add(op.Pos);
                continue;
            }
            if (chain != null) { left = new AddChainExpr(positions![1], chain, positions); chain = null; positions = null; }
            left = new BinaryExpr(op.Pos, op.Value, left, right);
        }
        return chain != null ? new AddChainExpr(positions![1], chain, positions!) : left;
    }

    private Expr ParseConcat()
    {
        int pos = Current.Pos;
        var first = ParseMath2();
        if (!IsOp("~")) return first;
        var parts = new List<Expr> { first };
        while (SkipOp("~")) parts.Add(ParseMath2());
        return new ConcatExpr(pos, parts);
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) { var op = Next(); left = new BinaryExpr(op.Pos, op.Value, left, ParsePow()); }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (IsOp("**")) { var op = Next(); left = new BinaryExpr(op.Pos, "**", left, ParseUnary(withFilter: true)); }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        Enter();
        try { return ParseUnaryInner(withFilter); }
        finally { _depth--; }
    }

    private Expr ParseUnaryInner(bool withFilter)
    {
        Expr node;
        if (IsOp("-") || IsOp("+")) { var op = Next(); node = new NegExpr(op.Pos, ParseUnary(false), op.Value == "-"); }
        else node = ParsePostfix(ParsePrimary());
        return withFilter ? ParseFilterExpr(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case TokenKind.Name:
                _i++;
                return t.Value switch
                {
                    "true" or "True" => new Const(t.Pos, true),
                    "false" or "False" => new Const(t.Pos, false),
                    "none" or "None" => new Const(t.Pos, null),
                    _ => new NameExpr(t.Pos, t.Value),
                };
            case TokenKind.String:
                _i++;
                string s = (string)t.Literal!;
                while (Current.Kind == TokenKind.String) s += (string)Next().Literal!;
                return new Const(t.Pos, s);
            case TokenKind.Integer:
            case TokenKind.Float:
                _i++;
                return new Const(t.Pos, t.Literal);
        }
        if (SkipOp("("))
        {
            if (SkipOp(")")) return new ListExpr(t.Pos, [], tuple: true);
            var inner = ParseTuple();
            ExpectOp(")");
            return inner;
        }
        if (SkipOp("[")) return new ListExpr(t.Pos, ParseItems("]"), tuple: false);
        if (SkipOp("{"))
        {
            var entries = new List<(Expr, Expr)>();
            while (!IsOp("}"))
            {
                if (entries.Count > 0) { ExpectOp(","); if (IsOp("}")) break; }
                var key = ParseExpression();
                ExpectOp(":");
                entries.Add((key, ParseExpression()));
            }
            ExpectOp("}");
            return new DictExpr(t.Pos, entries);
        }
        throw Error($"unexpected {Describe(t)}");
    }

    private List<Expr> ParseItems(string close)
    {
        var items = new List<Expr>();
        while (!IsOp(close))
        {
            if (items.Count > 0) { ExpectOp(","); if (IsOp(close)) break; }
            items.Add(ParseExpression());
        }
        ExpectOp(close);
        return items;
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (SkipOp("."))
            {
                if (Current.Kind == TokenKind.Name) node = new GetAttrExpr(t.Pos, node, Next().Value);
                else if (Current.Kind == TokenKind.Integer) node = new GetItemExpr(t.Pos, node, new Const(Current.Pos, Next().Literal));
                else throw Error($"expected a name after '.', got {Describe(Current)}");
            }
            else if (SkipOp("[")) node = ParseSubscript(t.Pos, node);
            else if (IsOp("(")) node = new CallExpr(t.Pos, node, ParseCallArgs());
            else return node;
        }
    }

    private Expr ParseSubscript(int pos, Expr target)
    {
        Expr? start = null, stop = null, step = null;
        if (!IsOp(":")) start = ParseExpression();
        if (!SkipOp(":"))
        {
            ExpectOp("]");
            return new GetItemExpr(pos, target, start!);
        }
        if (!IsOp(":") && !IsOp("]")) stop = ParseExpression();
        if (SkipOp(":") && !IsOp("]")) step = ParseExpression();
        ExpectOp("]");
        return new SliceExpr(pos, target, start, stop, step);
    }

    private ArgList ParseCallArgs()
    {
        ExpectOp("(");
        var positional = new List<Expr>();
        var keywords = new List<KeyValuePair<string, Expr>>();
        while (!IsOp(")"))
        {
            if (positional.Count + keywords.Count > 0) { ExpectOp(","); if (IsOp(")")) break; }
            if (IsOp("*") || IsOp("**")) throw Error("*args and **kwargs in calls are not supported");
            if (Current.Kind == TokenKind.Name && Peek().Kind == TokenKind.Operator && Peek().Value == "=")
            {
                string key = Next().Value;
                _i++;
                keywords.Add(new(key, ParseExpression()));
            }
            else if (keywords.Count > 0) throw Error("positional argument follows keyword argument");
            else positional.Add(ParseExpression());
        }
        ExpectOp(")");
        return new ArgList(positional, keywords);
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (IsOp("|")) node = ParseFilter(node);
            else if (IsName("is")) node = ParseTest(node);
            else if (IsOp("(")) node = new CallExpr(Current.Pos, node, ParseCallArgs());
            else return node;
        }
    }

    private Expr ParseFilter(Expr node)
    {
        ExpectOp("|");
        return ParseFilterBody(node);
    }

    private Expr ParseFilterBody(Expr node)
    {
        var nameTok = Current;
        string name = ExpectName();
        while (IsOp(".") && Peek().Kind == TokenKind.Name) { _i++; name += "." + Next().Value; }
        var fn = Filters.Get(name) ?? throw Error($"No filter named '{name}'.", nameTok);
        var args = IsOp("(") ? ParseCallArgs() : ArgList.Empty;
        return new FilterExpr(nameTok.Pos, node, name, fn, args);
    }

    /// <summary>For <c>{% filter … %}</c> and <c>{% set x | f %}</c>: a chain applied to a rendered string.</summary>
    private Func<RenderContext, object?, object?> ParseFilterChain(Token at)
    {
        SkipOp("|");
        Expr node = ParseFilterBody(new HoleExpr(at.Pos));
        while (SkipOp("|")) node = ParseFilterBody(node);
        return (ctx, value) =>
        {
            var saved = ctx.Hole;
            ctx.Hole = value;
            try { return node.Eval(ctx); }
            finally { ctx.Hole = saved; }
        };
    }

    private Expr ParseTest(Expr node)
    {
        var isTok = Next();
        bool negate = SkipName("not");
        var nameTok = Current;
        string name = ExpectName();
        var fn = Tests.Get(name) ?? throw Error($"No test named '{name}'.", nameTok);
        ArgList args = ArgList.Empty;
        if (IsOp("(")) args = ParseCallArgs();
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || IsOp("[") || IsOp("{"))
                 && !IsName("else") && !IsName("or") && !IsName("and"))
        {
            if (IsName("is")) throw Error("You cannot chain multiple tests with is");
            args = new ArgList([ParsePostfix(ParsePrimary())], []);
        }
        return new TestExpr(isTok.Pos, node, name, fn, args, negate);
    }
}

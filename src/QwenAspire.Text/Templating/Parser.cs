namespace QwenAspire.Text.Templating;

/// <summary>Recursive-descent parser from tokens to statements (this file) and expressions (ParserExpressions.cs).</summary>
internal sealed partial class Parser
{
    private readonly List<Token> _tokens;
    private readonly SourceMap _map;
    private int _i;
    private int _depth;

    /// <summary>Bounds expression nesting so a hostile template fails with an error, not a stack overflow.</summary>
    private const int MaxDepth = 200;

    private void Enter()
    {
        if (++_depth > MaxDepth) throw Error($"expression nested more than {MaxDepth} levels deep");
    }

    private Parser(List<Token> tokens, SourceMap map)
    {
        _tokens = tokens;
        _map = map;
    }

    public static List<Stmt> Parse(List<Token> tokens, SourceMap map)
    {
        var p = new Parser(tokens, map);
        var (body, _) = p.ParseBody([]);
        return body;
    }

    private Token Current => _tokens[_i];
    private Token Peek(int ahead = 1) => _tokens[Math.Min(_i + ahead, _tokens.Count - 1)];
    private Token Next() => _tokens[_i++];

    private TemplateSyntaxException Error(string message, Token? at = null) => _map.SyntaxError(message, (at ?? Current).Pos);

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.Eof => "end of template",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.VarEnd => "end of print statement",
        TokenKind.Data => "template data",
        _ => $"'{t.Value}'",
    };

    private bool IsOp(string op) => Current.Kind == TokenKind.Operator && Current.Value == op;
    private bool IsName(string name) => Current.Kind == TokenKind.Name && Current.Value == name;

    private bool SkipOp(string op)
    {
        if (!IsOp(op)) return false;
        _i++;
        return true;
    }

    private bool SkipName(string name)
    {
        if (!IsName(name)) return false;
        _i++;
        return true;
    }

    private Token ExpectOp(string op) => IsOp(op) ? Next() : throw Error($"expected '{op}', got {Describe(Current)}");

    private string ExpectName()
    {
        if (Current.Kind != TokenKind.Name) throw Error($"expected a name, got {Describe(Current)}");
        return Next().Value;
    }

    private void ExpectBlockEnd()
    {
        if (Current.Kind != TokenKind.BlockEnd) throw Error($"expected end of statement block, got {Describe(Current)}");
        _i++;
    }

    /// <summary>Parses until one of <paramref name="ends"/> opens a block; consumes that tag's name and returns it.</summary>
    private (List<Stmt> Body, string End) ParseBody(string[] ends)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.Data:
                    _i++;
                    body.Add(new TextStmt(t.Pos, t.Value));
                    break;
                case TokenKind.VarBegin:
                    _i++;
                    var expr = ParseTuple();
                    if (Current.Kind != TokenKind.VarEnd) throw Error($"expected end of print statement, got {Describe(Current)}");
                    _i++;
                    body.Add(new OutputStmt(t.Pos, expr));
                    break;
                case TokenKind.BlockBegin:
                    var nameTok = Peek();
                    if (nameTok.Kind == TokenKind.Name && Array.IndexOf(ends, nameTok.Value) >= 0)
                    {
                        _i += 2;
                        return (body, nameTok.Value);
                    }
                    _i++;
                    body.Add(ParseStatement(t));
                    break;
                case TokenKind.Eof:
                    if (ends.Length > 0)
                        throw Error($"Unexpected end of template. Jinja was looking for the following tags: {string.Join(" or ", ends.Select(e => $"'{e}'"))}.");
                    return (body, "");
                default:
                    throw Error($"unexpected {Describe(t)}");
            }
        }
    }

    private Stmt ParseStatement(Token begin)
    {
        if (Current.Kind != TokenKind.Name) throw Error("tag name expected");
        var tag = Next();
        switch (tag.Value)
        {
            case "if": return ParseIf(tag);
            case "for": return ParseFor(tag);
            case "set": return ParseSet(tag);
            case "macro": return ParseMacro(tag);
            case "call": return ParseCallBlock(tag);
            case "filter":
            {
                var filter = ParseFilterChain(tag);
                ExpectBlockEnd();
                var (body, _) = ParseBody(["endfilter"]);
                ExpectBlockEnd();
                return new BlockStmt(tag.Pos, body, filter);
            }
            case "generation":
            {
                ExpectBlockEnd();
                var (body, _) = ParseBody(["endgeneration"]);
                ExpectBlockEnd();
                return new BlockStmt(tag.Pos, body, null);
            }
            case "break":
            case "continue":
                ExpectBlockEnd();
                return new LoopControlStmt(tag.Pos, tag.Value == "break" ? Flow.Break : Flow.Continue);
            default:
                throw Error($"Encountered unknown tag '{tag.Value}'.", tag);
        }
    }

    private Stmt ParseIf(Token tag)
    {
        var branches = new List<(Expr, List<Stmt>)>();
        List<Stmt>? otherwise = null;
        var test = ParseTuple(withCondExpr: true);
        while (true)
        {
            ExpectBlockEnd();
            var (body, end) = ParseBody(["elif", "else", "endif"]);
            branches.Add((test, body));
            if (end == "elif") { test = ParseTuple(withCondExpr: true); continue; }
            if (end == "else")
            {
                ExpectBlockEnd();
                (otherwise, _) = ParseBody(["endif"]);
            }
            ExpectBlockEnd();
            return new IfStmt(tag.Pos, branches, otherwise);
        }
    }

    private Stmt ParseFor(Token tag)
    {
        var target = ParseAssignTarget(allowAttribute: false);
        if (!SkipName("in")) throw Error($"expected 'in', got {Describe(Current)}");
        var iter = ParseTuple(withCondExpr: false);
        Expr? condition = SkipName("if") ? ParseTuple(withCondExpr: true) : null;
        if (IsName("recursive")) throw Error("recursive for loops are not supported");
        ExpectBlockEnd();
        var (body, end) = ParseBody(["endfor", "else"]);
        List<Stmt>? otherwise = null;
        if (end == "else")
        {
            ExpectBlockEnd();
            (otherwise, _) = ParseBody(["endfor"]);
        }
        ExpectBlockEnd();
        return new ForStmt(tag.Pos, target, iter, condition, body, otherwise);
    }

    private Stmt ParseSet(Token tag)
    {
        var target = ParseAssignTarget(allowAttribute: true);
        if (SkipOp("="))
        {
            var value = ParseTuple();
            ExpectBlockEnd();
            return new SetStmt(tag.Pos, target, value);
        }
        var filter = IsOp("|") ? ParseFilterChain(Current) : null;
        ExpectBlockEnd();
        var (body, _) = ParseBody(["endset"]);
        ExpectBlockEnd();
        return new SetBlockStmt(tag.Pos, target, body, filter);
    }

    private AssignTarget ParseAssignTarget(bool allowAttribute)
    {
        string first = ExpectName();
        if (allowAttribute && SkipOp("."))
            return AssignTarget.Attribute(first, ExpectName());
        if (!IsOp(",")) return AssignTarget.Name(first);
        var names = new List<string> { first };
        while (SkipOp(","))
        {
            if (Current.Kind != TokenKind.Name || IsName("in")) break;
            names.Add(ExpectName());
        }
        return AssignTarget.Tuple(names);
    }

    private List<(string, Expr?)> ParseParameters()
    {
        var ps = new List<(string, Expr?)>();
        ExpectOp("(");
        while (!IsOp(")"))
        {
            if (ps.Count > 0) ExpectOp(",");
            if (IsOp(")")) break;
            string name = ExpectName();
            ps.Add((name, SkipOp("=") ? ParseExpression() : null));
        }
        ExpectOp(")");
        return ps;
    }

    private Stmt ParseMacro(Token tag)
    {
        string name = ExpectName();
        var ps = ParseParameters();
        ExpectBlockEnd();
        var (body, _) = ParseBody(["endmacro"]);
        ExpectBlockEnd();
        return new MacroStmt(tag.Pos, new MacroDef(name, ps, body));
    }

    private Stmt ParseCallBlock(Token tag)
    {
        var ps = IsOp("(") ? ParseParameters() : [];
        var call = ParseExpression();
        if (call is not CallExpr ce) throw Error("expected a macro call after 'call'", tag);
        ExpectBlockEnd();
        var (body, _) = ParseBody(["endcall"]);
        ExpectBlockEnd();
        return new CallBlockStmt(tag.Pos, ce.Callee, ce.Arguments, new MacroDef("caller", ps, body));
    }
}

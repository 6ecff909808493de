using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Templating;

internal enum TokenKind { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Operator, Eof }

internal readonly record struct Token(TokenKind Kind, string Value, int Pos, object? Literal = null);

/// <summary>
/// Splits a template into data and tag tokens the way Jinja2's lexer does with transformers' settings
/// (trim_blocks, lstrip_blocks, '-'/'+' whitespace control, trailing newline dropped).
/// </summary>
internal sealed class Lexer
{
    private readonly string _src;
    private readonly SourceMap _map;
    private readonly List<Token> _tokens = [];
    private int _pos;

    private Lexer(string normalized, SourceMap map)
    {
        _src = normalized;
        _map = map;
    }

    /// <summary>Jinja turns \r\n and \r into \n and drops one trailing newline (keep_trailing_newline=False).</summary>
    public static string Normalize(string source)
    {
        var s = source.Contains('\r') ? source.Replace("\r\n", "\n").Replace('\r', '\n') : source;
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    public static List<Token> Tokenize(string normalized, SourceMap map)
    {
        var lexer = new Lexer(normalized, map);
        lexer.Run();
        return lexer._tokens;
    }

    private TemplateSyntaxException Error(string message, int pos) => _map.SyntaxError(message, pos);

    private void Run()
    {
        bool lineStarting = true;
        while (_pos < _src.Length)
        {
            int open = FindOpener(_pos);
            string text = _src[_pos..(open < 0 ? _src.Length : open)];
            if (open < 0)
            {
                Emit(TokenKind.Data, text, _pos);
                _pos = _src.Length;
                break;
            }
            char kind = _src[open + 1];
            char sign = open + 2 < _src.Length ? _src[open + 2] : '\0';
            if (sign == '-')
                text = text.TrimEnd(PyText.WhitespaceChars);
            else if (sign != '+' && kind != '{')
            {
                int lpos = text.LastIndexOf('\n') + 1;
                if ((lpos > 0 || lineStarting) && lpos < text.Length && PyText.AllWhitespace(text, lpos))
                    text = text[..lpos];
            }
            Emit(TokenKind.Data, text, _pos);
            _pos = open + 2 + (sign is '-' or '+' ? 1 : 0);
            lineStarting = kind switch
            {
                '#' => LexComment(open),
                '{' => LexTag(open, TokenKind.VarBegin, TokenKind.VarEnd, "}}", trim: false),
                _ => LexBlockOrRaw(open),
            };
        }
        _tokens.Add(new Token(TokenKind.Eof, "", _src.Length));
    }

    private void Emit(TokenKind kind, string value, int pos)
    {
        if (kind != TokenKind.Data || value.Length > 0) _tokens.Add(new Token(kind, value, pos));
    }

    private int FindOpener(int from)
    {
        int i = from;
        while ((i = _src.IndexOf('{', i)) >= 0 && i + 1 < _src.Length)
        {
            char c = _src[i + 1];
            if (c is '{' or '%' or '#') return i;
            i++;
        }
        return -1;
    }

    /// <summary>After a tag end: '-' eats all whitespace, otherwise trim_blocks eats one newline (not after '}}').</summary>
    private bool AfterTagEnd(char sign, bool trim)
    {
        int start = _pos;
        if (sign == '-')
            while (_pos < _src.Length && PyText.IsWhitespace(_src[_pos])) _pos++;
        else if (sign != '+' && trim && _pos < _src.Length && _src[_pos] == '\n')
            _pos++;
        return _pos > start && _src[_pos - 1] == '\n';
    }

    private bool LexComment(int open)
    {
        int end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0) throw Error("Missing end of comment tag", open);
        char sign = _src[end - 1] is '-' or '+' && end - 1 >= _pos ? _src[end - 1] : '\0';
        _pos = end + 2;
        return AfterTagEnd(sign, trim: true);
    }

    private bool LexBlockOrRaw(int open)
    {
        int p = _pos;
        while (p < _src.Length && PyText.IsWhitespace(_src[p])) p++;
        if (string.CompareOrdinal(_src, p, "raw", 0, 3) == 0 && (p + 3 >= _src.Length || !PyText.IsNameChar(_src[p + 3])))
            return LexRaw(open, p + 3);
        return LexTag(open, TokenKind.BlockBegin, TokenKind.BlockEnd, "%}", trim: true);
    }

    private bool LexRaw(int open, int afterWord)
    {
        int p = afterWord;
        while (p < _src.Length && PyText.IsWhitespace(_src[p])) p++;
        char sign = '\0';
        if (p < _src.Length && _src[p] is '-' or '+') sign = _src[p++];
        if (string.CompareOrdinal(_src, p, "%}", 0, 2) != 0) throw Error("Expected end of raw tag", p);
        _pos = p + 2;
        AfterTagEnd(sign, trim: true);
        int search = _pos;
        while (true)
        {
            int b = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (b < 0) throw Error("Missing end of raw directive", open);
            int q = b + 2;
            char openSign = q < _src.Length && _src[q] is '-' or '+' ? _src[q++] : '\0';
            while (q < _src.Length && PyText.IsWhitespace(_src[q])) q++;
            if (string.CompareOrdinal(_src, q, "endraw", 0, 6) != 0) { search = b + 2; continue; }
            q += 6;
            while (q < _src.Length && PyText.IsWhitespace(_src[q])) q++;
            char closeSign = q < _src.Length && _src[q] is '-' or '+' ? _src[q++] : '\0';
            if (string.CompareOrdinal(_src, q, "%}", 0, 2) != 0) { search = b + 2; continue; }
            string body = _src[_pos..b];
            if (openSign == '-') body = body.TrimEnd(PyText.WhitespaceChars);
            Emit(TokenKind.Data, body, _pos);
            _pos = q + 2;
            return AfterTagEnd(closeSign, trim: true);
        }
    }

    private bool LexTag(int open, TokenKind begin, TokenKind end, string closer, bool trim)
    {
        _tokens.Add(new Token(begin, closer, open));
        int depth = 0;
        while (true)
        {
            while (_pos < _src.Length && PyText.IsWhitespace(_src[_pos])) _pos++;
            if (_pos >= _src.Length) throw Error($"Unexpected end of template: missing '{closer}'", open);
            if (depth == 0)
            {
                char sign = _src[_pos] is '-' or '+' ? _src[_pos] : '\0';
                int at = _pos + (sign != '\0' ? 1 : 0);
                if (string.CompareOrdinal(_src, at, closer, 0, 2) == 0 && (sign != '+' || trim))
                {
                    _tokens.Add(new Token(end, closer, _pos));
                    _pos = at + 2;
                    return AfterTagEnd(sign, trim);
                }
            }
            LexExpressionToken(ref depth);
        }
    }

    private void LexExpressionToken(ref int depth)
    {
        int start = _pos;
        char c = _src[_pos];
        if (char.IsAsciiLetter(c) || c == '_' || (c > 127 && char.IsLetter(c)))
        {
            while (_pos < _src.Length && PyText.IsNameChar(_src[_pos])) _pos++;
            _tokens.Add(new Token(TokenKind.Name, _src[start.._pos], start));
            return;
        }
        if (char.IsAsciiDigit(c)) { LexNumber(); return; }
        if (c is '\'' or '"') { LexString(c); return; }
        string op = MatchOperator();
        if (op.Length == 0) throw Error($"Unexpected character '{c}'", start);
        if (op is "(" or "[" or "{") depth++;
        else if (op is ")" or "]" or "}")
        {
            if (depth == 0) throw Error($"Unexpected '{op}'", start);
            depth--;
        }
        _pos += op.Length;
        _tokens.Add(new Token(TokenKind.Operator, op, start));
    }

    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"];

    private string MatchOperator()
    {
        foreach (var op in Operators)
            if (string.CompareOrdinal(_src, _pos, op, 0, op.Length) == 0) return op;
        return "";
    }

    private void LexNumber()
    {
        int start = _pos;
        bool afterDot = start > 0 && _src[start - 1] == '.';
        SkipDigits();
        bool isFloat = false;
        if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            _pos++;
            SkipDigits();
            isFloat = true;
        }
        if (!afterDot && _pos < _src.Length && _src[_pos] is 'e' or 'E')
        {
            int save = _pos++;
            if (_pos < _src.Length && _src[_pos] is '+' or '-') _pos++;
            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) { SkipDigits(); isFloat = true; }
            else _pos = save;
        }
        string text = _src[start.._pos].Replace("_", "");
        if (isFloat)
            _tokens.Add(new Token(TokenKind.Float, text, start, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)));
        else if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long l))
            _tokens.Add(new Token(TokenKind.Integer, text, start, l));
        else
            throw Error($"Integer literal '{text}' is out of range", start);
    }

    private void SkipDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || (_src[_pos] == '_' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1]))))
            _pos++;
    }

    private void LexString(char quote)
    {
        int start = _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length) throw Error("Unterminated string literal", start);
            char c = _src[_pos++];
            if (c == quote) break;
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _src.Length) throw Error("Unterminated string literal", start);
            try { _pos = PyText.Unescape(_src, _pos, sb); }
            catch (PyError e) { throw Error(e.Message, start); }
        }
        _tokens.Add(new Token(TokenKind.String, _src[start.._pos], start, sb.ToString()));
    }
}

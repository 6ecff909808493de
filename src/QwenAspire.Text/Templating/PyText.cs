using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>Python's notion of whitespace, identifiers and string-literal escapes.</summary>
internal static class PyText
{
    /// <summary>Exactly the characters for which Python's <c>str.isspace()</c> is true.</summary>
    public static readonly char[] WhitespaceChars =
    [
        '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e', '\x1f', ' ', '\x85', '\xa0', '\u1680',
        '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a',
        '\u2028', '\u2029', '\u202f', '\u205f', '\u3000',
    ];

    public static bool IsWhitespace(char c) => c <= ' ' ? c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f') : char.IsWhiteSpace(c);

    public static bool AllWhitespace(string s, int from)
    {
        for (int i = from; i < s.Length; i++)
            if (!IsWhitespace(s[i])) return false;
        return true;
    }

    public static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || (c > 127 && char.IsLetterOrDigit(c));

    /// <summary>Decodes one escape (the backslash already consumed) the way Python's unicode-escape does.</summary>
    public static int Unescape(string s, int pos, StringBuilder sb)
    {
        char e = s[pos++];
        switch (e)
        {
            case 'n': sb.Append('\n'); break;
            case 't': sb.Append('\t'); break;
            case 'r': sb.Append('\r'); break;
            case '\\': sb.Append('\\'); break;
            case '\'': sb.Append('\''); break;
            case '"': sb.Append('"'); break;
            case 'a': sb.Append('\a'); break;
            case 'b': sb.Append('\b'); break;
            case 'f': sb.Append('\f'); break;
            case 'v': sb.Append('\v'); break;
            case '\n': break;
            case 'x': return AppendHex(s, pos, 2, sb);
            case 'u': return AppendHex(s, pos, 4, sb);
            case 'U': return AppendHex(s, pos, 8, sb);
            case >= '0' and <= '7':
                int value = e - '0', n = 1;
                while (n < 3 && pos < s.Length && s[pos] is >= '0' and <= '7') { value = value * 8 + (s[pos++] - '0'); n++; }
                sb.Append(char.ConvertFromUtf32(value));
                break;
            default: sb.Append('\\').Append(e); break;
        }
        return pos;
    }

    private static int AppendHex(string s, int pos, int digits, StringBuilder sb)
    {
        if (pos + digits > s.Length || !int.TryParse(s.AsSpan(pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp))
            throw new PyError($"truncated \\{(digits == 2 ? 'x' : digits == 4 ? 'u' : 'U')} escape in string literal");
        if (cp is >= 0xD800 and <= 0xDFFF) sb.Append((char)cp);
        else sb.Append(char.ConvertFromUtf32(cp));
        return pos + digits;
    }
}

/// <summary>Maps offsets in the normalized source to 1-based line/column for error messages.</summary>
internal sealed class SourceMap
{
    private readonly List<int> _lineStarts = [0];

    public SourceMap(string normalized, string? name)
    {
        Name = name;
        for (int i = 0; i < normalized.Length; i++)
            if (normalized[i] == '\n') _lineStarts.Add(i + 1);
    }

    public string? Name { get; }

    public (int Line, int Column) Locate(int pos)
    {
        int idx = _lineStarts.BinarySearch(pos);
        if (idx < 0) idx = ~idx - 1;
        return (idx + 1, pos - _lineStarts[idx] + 1);
    }

    public TemplateSyntaxException SyntaxError(string message, int pos)
    {
        var (line, col) = Locate(pos);
        return new TemplateSyntaxException(message, Name, line, col);
    }
}

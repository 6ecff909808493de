using System.Buffers;

namespace QwenAspire.Text.Tokenization;

/// <summary>
/// Finds added tokens (<c>&lt;|im_start|&gt;</c>, <c>&lt;think&gt;</c>, ...) in raw text, leftmost-longest like HF's
/// Aho-Corasick matcher, so that e.g. <c>&lt;&lt;think&gt;&gt;</c> yields "&lt;", <c>&lt;think&gt;</c>, "&gt;".
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly SearchValues<char> _firstChars;
    private readonly Dictionary<char, (string Content, int Id)[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<(string Content, int Id)> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _firstChars = SearchValues.Create([.. _byFirstChar.Keys]);
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>The first match at or after <paramref name="from"/>: (start, length, id), or start -1.</summary>
    public (int Start, int Length, int Id) FindNext(ReadOnlySpan<char> text, int from)
    {
        while (from < text.Length)
        {
            var rel = text[from..].IndexOfAny(_firstChars);
            if (rel < 0) break;
            var at = from + rel;
            var rest = text[at..];
            foreach (var (content, id) in _byFirstChar[text[at]])
                if (rest.StartsWith(content, StringComparison.Ordinal)) return (at, content.Length, id);
            from = at + 1;
        }
        return (-1, 0, -1);
    }
}

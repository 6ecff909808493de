using System.Globalization;
using System.Text;

namespace QwenAspire.Text.Tokenization;

/// <summary>
/// Hand-written scanner equivalent to Qwen's split regex (Oniguruma semantics, leftmost-first):
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>.
/// It works on code points, so letters outside the BMP (surrogate pairs) count as letters, which .NET
/// Regex gets wrong, and it needs no backtracking engine.
/// </summary>
internal static class Qwen3PreTokenizer
{
    private const byte Letter = 1, Number = 2, Space = 3, Other = 4;
    // Class of every BMP char, built once (~1 ms): the scanner's hot path is then a table lookup.
    // Surrogates are "other" here; valid pairs are classified as the code point they form.
    private static readonly byte[] s_bmp = BuildBmp();

    private static byte[] BuildBmp()
    {
        var t = new byte[65536];
        for (var c = 0; c < t.Length; c++) t[c] = c is >= 0xD800 and <= 0xDFFF ? Other : Classify(c);
        return t;
    }

    private static byte Classify(int cp)
    {
        if (Rune.IsWhiteSpace(new Rune(cp))) return Space;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            _ => Other,
        };
    }

    /// <summary>Class of the code point at <paramref name="i"/>; <paramref name="width"/> gets its UTF-16 length.</summary>
    private static byte ClassAt(ReadOnlySpan<char> s, int i, out int width)
    {
        var c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            width = 2;
            return Classify(char.ConvertToUtf32(c, s[i + 1]));
        }
        width = 1;
        // A lone surrogate is not a letter, number or space: it falls in the "other" class, like U+FFFD it becomes.
        return s_bmp[c];
    }

    private static int SkipClass(ReadOnlySpan<char> s, int i, byte cls)
    {
        while (i < s.Length && ClassAt(s, i, out var w) == cls) i += w;
        return i;
    }

    private static bool IsCrLf(char c) => c is '\r' or '\n';

    /// <summary>(start, length) of every pre-token of <paramref name="s"/>, in order.</summary>
    public static List<(int Start, int Length)> Split(ReadOnlySpan<char> s)
    {
        var pieces = new List<(int, int)>();
        for (var i = 0; i < s.Length;)
        {
            var end = NextEnd(s, i);
            pieces.Add((i, end - i));
            i = end;
        }
        return pieces;
    }

    /// <summary>End (exclusive) of the pre-token starting at <paramref name="i"/>.</summary>
    internal static int NextEnd(ReadOnlySpan<char> s, int i)
    {
        var n = s.Length;
        var c = s[i];

        // (?i:'s|'t|'re|'ve|'m|'ll|'d): case-insensitive with Unicode simple folding, so 'ſ (long s) counts as 's.
        if (c == '\'' && i + 1 < n)
        {
            var c1 = s[i + 1];
            if (c1 is 's' or 'S' or 'ſ' or 't' or 'T' or 'm' or 'M' or 'd' or 'D') return i + 2;
            if (i + 2 < n)
            {
                var c2 = s[i + 2];
                if ((c1 is 'r' or 'R' or 'v' or 'V') && c2 is 'e' or 'E') return i + 3;
                if (c1 is 'l' or 'L' && c2 is 'l' or 'L') return i + 3;
            }
        }

        var cls = ClassAt(s, i, out var w);
        var next = i + w;
        switch (cls)
        {
            case Letter:
                return SkipClass(s, next, Letter);
            case Number:
                return next;
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+ with a one-char prefix (space, symbol, tab, ...).
        if (!IsCrLf(c) && next < n && ClassAt(s, next, out _) == Letter)
            return SkipClass(s, next, Letter);

        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var symbolStart = cls == Other ? i : (c == ' ' && next < n && ClassAt(s, next, out _) == Other ? next : -1);
        if (symbolStart >= 0)
        {
            var j = SkipClass(s, symbolStart, Other);
            while (j < n && IsCrLf(s[j])) j++;
            return j;
        }

        // c is whitespace. Every whitespace char is in the BMP, so chars = code points here.
        var runEnd = i;
        while (runEnd < n && ClassAt(s, runEnd, out _) == Space) runEnd++;

        // `\s*[\r\n]+`: greedy \s* backs off to the last CR/LF in the run.
        for (var k = runEnd - 1; k >= i; k--)
            if (IsCrLf(s[k])) return k + 1;

        // `\s+(?!\S)`: the whole run at the end of text, else all but its last char (which then prefixes a word).
        if (runEnd == n) return runEnd;
        if (runEnd - i > 1) return runEnd - 1;
        return runEnd; // `\s+`
    }
}

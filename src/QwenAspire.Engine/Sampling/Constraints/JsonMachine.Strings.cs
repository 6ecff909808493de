namespace QwenAspire.Engine.Sampling.Constraints;

// Strings: escapes, UTF-8 sequences checked byte by byte, and the pattern/format automaton stepped per character.
internal static partial class JsonMachine
{
    private static void FeedString(Frame f, StringNode s, byte b, List<Frame> output)
    {
        switch (f.Phase)
        {
            case StrNormal:
                if (b == '"')
                {
                    if (f.Pos >= s.MinLength && (s.Pattern is null || s.Pattern.IsAccepting((int)f.Mask))) output.Add(f.Parent!);
                    return;
                }
                if (b < 0x20 || f.Pos >= s.MaxLength) return; // control characters must be escaped
                var counted = s.Bounded ? f.Pos + 1 : 0; // unbounded strings keep one state (cache hits)
                if (b == '\\')
                {
                    // A pattern string opens an escape only when some escaped character can continue it (no dead end).
                    if (s.Pattern is null || Array.Exists(s_escapes, e => PatternStep(f, s, Unescape(e)!.Value, counted) is not null))
                        output.Add(f with { Phase = StrEscape, Pos = counted });
                }
                else if (b < 0x80)
                {
                    if (s.Pattern is null) output.Add(counted == f.Pos ? f : f with { Pos = counted });
                    else if (PatternStep(f, s, b, counted) is { } next) output.Add(f with { Pos = counted, Mask = next });
                }
                else if (Utf8Lead(b, out var continuation, out var rule))
                {
                    var mask = f.Mask;
                    if (s.Pattern is not null)
                    {
                        if (PatternStep(f, s, Dfa.NonAscii, counted) is not { } next) return;
                        mask = next;
                    }
                    output.Add(f with { Phase = StrUtf8, Pos = counted, Next = continuation, Ws = rule, Mask = mask });
                }
                return;
            case StrEscape:
                if (b == 'u')
                {
                    // \uXXXX is not followed through a pattern: pattern strings spell characters directly.
                    if (s.Pattern is null) output.Add(f with { Phase = StrHex, Next = 4 });
                }
                else if (Unescape(b) is { } decoded)
                {
                    // The escape's character was counted at the backslash (Pos already includes it).
                    if (s.Pattern is null) output.Add(f with { Phase = StrNormal });
                    else if (PatternStep(f, s, decoded, f.Pos) is { } next) output.Add(f with { Phase = StrNormal, Mask = next });
                }
                return;
            case StrHex:
                if (!char.IsAsciiHexDigit((char)b)) return;
                output.Add(f.Next == 1 ? f with { Phase = StrNormal, Next = 0 } : f with { Next = f.Next - 1 });
                return;
            case StrUtf8:
                if (!Utf8Continues(f.Ws, b)) return;
                output.Add(f.Next == 1 ? f with { Phase = StrNormal, Next = 0, Ws = 0 } : f with { Next = f.Next - 1, Ws = 0 });
                return;
        }
    }

    private static readonly byte[] s_escapes = "\"\\/bfnrt"u8.ToArray();

    private static int? Unescape(byte b) => b switch
    {
        (byte)'"' => '"',
        (byte)'\\' => '\\',
        (byte)'/' => '/',
        (byte)'b' => 8,
        (byte)'f' => 12,
        (byte)'n' => 10,
        (byte)'r' => 13,
        (byte)'t' => 9,
        _ => null,
    };

    /// <summary>
    /// The pattern state after one more character, or null when the pattern refuses it or could no longer end
    /// within the length bounds (<paramref name="count"/> characters written including this one; bounded strings).
    /// </summary>
    private static long? PatternStep(Frame f, StringNode s, int symbol, int count) =>
        PatternNext(s, (int)f.Mask, symbol, count) is var next && next >= 0 ? next : null;

    /// <summary><see cref="PatternStep"/> on the bare pattern state (−1: refused); <see cref="MaskComputer"/>'s pattern walk uses it too.</summary>
    internal static int PatternNext(StringNode s, int state, int symbol, int count)
    {
        var next = s.Pattern!.Step(state, symbol);
        if (next < 0) return -1;
        if (s.Bounded && !s.Pattern.CanFinish(next, Math.Max(0, s.MinLength - count), s.MaxLength == int.MaxValue ? int.MaxValue : s.MaxLength - count))
            return -1;
        return next;
    }

    /// <summary>Whether <paramref name="b"/> is a valid UTF-8 continuation byte under the lead byte's range rule.</summary>
    internal static bool Utf8Continues(int rule, byte b)
    {
        var (lo, hi) = rule switch { 1 => (0xA0, 0xBF), 2 => (0x80, 0x9F), 3 => (0x90, 0xBF), 4 => (0x80, 0x8F), _ => (0x80, 0xBF) };
        return b >= lo && b <= hi;
    }

    /// <summary>Well-formed UTF-8 only (no overlongs, surrogates or code points past U+10FFFF): the text must decode exactly.</summary>
    internal static bool Utf8Lead(byte b, out int continuation, out int firstRule)
    {
        (continuation, firstRule) = b switch
        {
            >= 0xC2 and <= 0xDF => (1, 0),
            0xE0 => (2, 1),
            0xED => (2, 2),
            >= 0xE1 and <= 0xEF => (2, 0),
            0xF0 => (3, 3),
            >= 0xF1 and <= 0xF3 => (3, 0),
            0xF4 => (3, 4),
            _ => (0, 0),
        };
        return continuation > 0;
    }
}

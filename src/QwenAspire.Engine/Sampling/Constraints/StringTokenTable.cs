namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// How each token behaves when it starts inside a JSON string (after ordinary content): it stays inside
/// (with how many characters it adds), or it closes the string after some characters and leaves a suffix
/// for the parent, or it cannot appear. Computed once per vocabulary, it turns the costliest mask (most of
/// the vocabulary, inside a string) into a pass over a precomputed list plus a check of the few closing
/// tokens against the parent state, instead of a walk over the whole trie. Mirrors
/// <see cref="JsonMachine"/>'s string rules exactly (tests compare it with the byte automaton).
/// </summary>
internal sealed class StringTokenTable
{
    /// <summary>Tokens that stay inside, ordered by the characters they add (ascending).</summary>
    public int[] InsideIds { get; }
    public int[] InsideChars { get; }
    /// <summary>Every inside token, as a bit set over ids.</summary>
    public ulong[] InsideBits { get; }
    public ExitToken[] Exits { get; }

    internal readonly record struct ExitToken(int Id, int CharsBefore, byte[] Suffix);

    public StringTokenTable(TokenVocabulary vocabulary)
    {
        var inside = new List<(int Id, int Chars)>();
        var exits = new List<ExitToken>();
        InsideBits = new ulong[(vocabulary.Count + 63) / 64];
        for (var id = 0; id < vocabulary.Count; id++)
        {
            var bytes = vocabulary.BytesOf(id);
            if (bytes.IsEmpty) continue;
            switch (Simulate(bytes, out var chars, out var quoteAt))
            {
                case Outcome.Inside:
                    inside.Add((id, chars));
                    InsideBits[id >> 6] |= 1UL << id;
                    break;
                case Outcome.Exits:
                    exits.Add(new ExitToken(id, chars, bytes[(quoteAt + 1)..].ToArray()));
                    break;
            }
        }
        inside.Sort((a, b) => a.Chars != b.Chars ? a.Chars.CompareTo(b.Chars) : a.Id.CompareTo(b.Id));
        InsideIds = [.. inside.Select(t => t.Id)];
        InsideChars = [.. inside.Select(t => t.Chars)];
        Exits = [.. exits];
    }

    private enum Outcome { Invalid, Inside, Exits }

    /// <summary>Runs the string rules from the normal phase; <paramref name="chars"/> counts characters before any closing quote.</summary>
    private static Outcome Simulate(ReadOnlySpan<byte> bytes, out int chars, out int quoteAt)
    {
        chars = 0;
        quoteAt = -1;
        var phase = 0; // 0 normal, 1 after '\', 2 UTF-8 continuation, 3 hex digits
        var pending = 0;
        var rule = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            switch (phase)
            {
                case 0:
                    if (b == '"') { quoteAt = i; return Outcome.Exits; }
                    if (b < 0x20) return Outcome.Invalid;
                    chars++;
                    if (b == '\\') phase = 1;
                    else if (b >= 0x80)
                    {
                        if (!JsonMachine.Utf8Lead(b, out pending, out rule)) return Outcome.Invalid;
                        phase = 2;
                    }
                    break;
                case 1:
                    if (b == 'u') { phase = 3; pending = 4; }
                    else if (b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t') phase = 0;
                    else return Outcome.Invalid;
                    break;
                case 2:
                    if (!JsonMachine.Utf8Continues(rule, b)) return Outcome.Invalid;
                    rule = 0;
                    if (--pending == 0) phase = 0;
                    break;
                case 3:
                    if (!char.IsAsciiHexDigit((char)b)) return Outcome.Invalid;
                    if (--pending == 0) phase = 0;
                    break;
            }
        }
        return Outcome.Inside;
    }
}

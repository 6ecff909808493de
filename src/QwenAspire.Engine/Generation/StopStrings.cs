namespace QwenAspire.Engine.Generation;

/// <summary>Ordinal stop-string search on decoded text.</summary>
internal static class StopStrings
{
    /// <summary>Earliest occurrence of any stop string in <paramref name="text"/> (ties at one position: the first listed).</summary>
    public static int FindFirst(string text, IReadOnlyList<string> stops, out string? stop)
    {
        var best = -1;
        stop = null;
        foreach (var s in stops)
        {
            if (s.Length == 0) continue;
            var i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best))
            {
                best = i;
                stop = s;
            }
        }
        return best;
    }

    /// <summary>
    /// Length of the longest suffix of <paramref name="text"/> that is a proper prefix of some stop string:
    /// text that may still turn into a stop string and must not be streamed yet.
    /// </summary>
    public static int HoldbackLength(string text, IReadOnlyList<string> stops)
    {
        var hold = 0;
        foreach (var s in stops)
        {
            for (var len = Math.Min(s.Length - 1, text.Length); len > hold; len--)
            {
                if (text.AsSpan(text.Length - len).SequenceEqual(s.AsSpan(0, len)))
                {
                    hold = len;
                    break;
                }
            }
        }
        // Never leave half a surrogate pair on the streamed side.
        if (hold < text.Length && char.IsHighSurrogate(text[text.Length - hold - 1])) hold++;
        return hold;
    }
}

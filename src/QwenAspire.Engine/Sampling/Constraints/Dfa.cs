namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// A deterministic automaton over characters of a JSON string's decoded content (or of a bare value), used by
/// <c>pattern</c>, <c>format</c> and integer bounds. The alphabet is the 128 ASCII characters plus one symbol,
/// <see cref="NonAscii"/>, standing for any other character (the string frame checks the UTF-8 itself).
/// Only live states are kept (every state can still reach an accepting one), so a mask never leads into a
/// dead end; per state the shortest and longest remaining accepted length let bounded strings check
/// minLength/maxLength against the pattern. Immutable, shared by every sequence.
/// </summary>
public sealed class Dfa
{
    public const int Alphabet = 129;
    public const int NonAscii = 128;
    public const int Unbounded = int.MaxValue;
    private readonly int[] _next;
    private readonly bool[] _accepting;
    private readonly int[] _minRemaining;
    private readonly int[] _maxRemaining;

    /// <param name="next">Per state, <see cref="Alphabet"/> targets (−1: refused); state 0 is the start, every state live.</param>
    internal Dfa(int[] next, bool[] accepting)
    {
        _next = next;
        _accepting = accepting;
        (_minRemaining, _maxRemaining) = Distances(next, accepting);
    }

    public int StateCount => _accepting.Length;

    /// <summary>The state after <paramref name="symbol"/> (an ASCII code or <see cref="NonAscii"/>), or −1.</summary>
    public int Step(int state, int symbol) => _next[state * Alphabet + symbol];

    public bool IsAccepting(int state) => _accepting[state];

    /// <summary>Fewest characters that still lead to acceptance from <paramref name="state"/>.</summary>
    public int MinRemaining(int state) => _minRemaining[state];

    /// <summary>Most characters an accepted continuation can have (<see cref="Unbounded"/> through a loop).</summary>
    public int MaxRemaining(int state) => _maxRemaining[state];

    /// <summary>True when some accepted continuation from <paramref name="state"/> has between <paramref name="atLeast"/> and <paramref name="atMost"/> characters (bounds only: gaps between lengths are not tracked).</summary>
    public bool CanFinish(int state, int atLeast, int atMost) =>
        _minRemaining[state] <= atMost && _maxRemaining[state] >= atLeast;

    /// <summary>True when <paramref name="text"/> (ASCII and other characters) is accepted: tests and diagnostics.</summary>
    public bool Matches(string text)
    {
        var state = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            state = Step(state, rune.Value < 128 ? rune.Value : NonAscii);
            if (state < 0) return false;
        }
        return IsAccepting(state);
    }

    private static (int[] Min, int[] Max) Distances(int[] next, bool[] accepting)
    {
        var n = accepting.Length;
        var min = new int[n];
        var max = new int[n];
        // Shortest: Bellman-style relaxation until stable (n is small, bounded by the compiler's state cap).
        for (var s = 0; s < n; s++) min[s] = accepting[s] ? 0 : Unbounded;
        for (var changed = true; changed;)
        {
            changed = false;
            for (var s = 0; s < n; s++)
                for (var c = 0; c < Alphabet; c++)
                {
                    var t = next[s * Alphabet + c];
                    if (t >= 0 && min[t] != Unbounded && min[t] + 1 < min[s]) { min[s] = min[t] + 1; changed = true; }
                }
        }
        // Longest: a depth-first search; reaching a state on the current path means a loop, i.e. unbounded.
        var state = new byte[n]; // 0 new, 1 on the path, 2 done
        for (var s = 0; s < n; s++) if (state[s] == 0) Longest(s, next, accepting, state, max);
        return (min, max);
    }

    private static int Longest(int s, int[] next, bool[] accepting, byte[] state, int[] max)
    {
        if (state[s] == 2) return max[s];
        if (state[s] == 1) return Unbounded;
        state[s] = 1;
        var best = accepting[s] ? 0 : -1;
        for (var c = 0; c < Alphabet && best != Unbounded; c++)
        {
            var t = next[s * Alphabet + c];
            if (t < 0) continue;
            var sub = Longest(t, next, accepting, state, max);
            if (sub == Unbounded) best = Unbounded;
            else if (sub >= 0) best = Math.Max(best, sub + 1);
        }
        state[s] = 2;
        return max[s] = best;
    }
}

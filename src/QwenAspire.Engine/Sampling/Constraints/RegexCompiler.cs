namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// Compiles the regular-expression subset that JSON Schema <c>pattern</c>s mostly use to a <see cref="Dfa"/>:
/// ASCII literals, <c>.</c>, classes <c>[a-z_]</c> / <c>[^…]</c>, <c>\d \w \s \D \W \S</c>, escaped
/// punctuation, <c>\t \n \r \f \v \xHH \uHHHH</c> (ASCII), groups <c>(…)</c> <c>(?:…)</c>, <c>|</c>, the
/// quantifiers <c>* + ? {n} {n,} {n,m}</c> (lazy forms too: same language), and <c>^</c>/<c>$</c> at the ends of
/// top-level alternatives. Matching is a search, as JSON Schema says: an unanchored side may have any text.
/// Refused (<see cref="RegexNotSupportedException"/>): lookaround, backreferences, <c>\b</c>, Unicode classes,
/// non-ASCII literals, and automata over <see cref="MaxStates"/> states. Classes are ASCII-only (conservative
/// where regex flavours differ: .NET's \d also takes other digits); negated classes and <c>.</c> take any
/// non-ASCII character too.
/// </summary>
public static partial class RegexCompiler
{
    public const int MaxStates = 2000;
    private const int MaxNfaStates = 20000;

    /// <exception cref="RegexNotSupportedException">Outside the subset, or too large.</exception>
    public static Dfa Compile(string pattern)
    {
        var nfa = new Nfa();
        var parser = new Parser(pattern, nfa);
        var (start, end) = parser.TopLevel();
        return Determinize(nfa, start, end);
    }

    // ---- NFA (Thompson) ----

    /// <summary>A set of <see cref="Dfa.Alphabet"/> symbols.</summary>
    internal readonly record struct Symbols(UInt128 Ascii, bool Other)
    {
        public static Symbols Of(int c) => c == Dfa.NonAscii ? new(0, true) : new(UInt128.One << c, false);
        public static Symbols Range(int lo, int hi)
        {
            UInt128 bits = 0;
            for (var c = lo; c <= hi; c++) bits |= UInt128.One << c;
            return new(bits, false);
        }
        public static readonly Symbols AnyChar = new(UInt128.MaxValue, true);
        public Symbols Union(Symbols o) => new(Ascii | o.Ascii, Other | o.Other);
        public Symbols Negate() => new(~Ascii, !Other);
        public bool Has(int c) => c == Dfa.NonAscii ? Other : ((Ascii >> c) & UInt128.One) != 0;
    }

    private sealed class Nfa
    {
        public readonly List<List<int>> Epsilon = [];
        public readonly List<(Symbols On, int To)?> Edge = [];

        public int Add()
        {
            if (Edge.Count >= MaxNfaStates) throw new RegexNotSupportedException($"the pattern expands to more than {MaxNfaStates} automaton states.");
            Epsilon.Add([]);
            Edge.Add(null);
            return Edge.Count - 1;
        }
    }

    private static RegexNotSupportedException Unsupported(string message) => new(message);

    // ---- subset construction ----

    private static Dfa Determinize(Nfa nfa, int start, int end)
    {
        var ids = new Dictionary<string, int>();
        var sets = new List<int[]>();
        var transitions = new List<int>();
        int Intern(SortedSet<int> set)
        {
            var key = string.Join(',', set);
            if (ids.TryGetValue(key, out var id)) return id;
            if (sets.Count >= MaxStates) throw Unsupported($"the pattern needs more than {MaxStates} automaton states.");
            ids[key] = sets.Count;
            sets.Add([.. set]);
            return sets.Count - 1;
        }
        Intern(Closure(nfa, [start]));
        for (var d = 0; d < sets.Count; d++)
        {
            for (var c = 0; c < Dfa.Alphabet; c++)
            {
                var moved = new List<int>();
                foreach (var s in sets[d])
                    if (nfa.Edge[s] is { } edge && edge.On.Has(c)) moved.Add(edge.To);
                transitions.Add(moved.Count == 0 ? -1 : Intern(Closure(nfa, moved)));
            }
        }
        var accepting = sets.Select(s => Array.IndexOf(s, end) >= 0).ToArray();
        return Prune([.. transitions], accepting);
    }

    private static SortedSet<int> Closure(Nfa nfa, IEnumerable<int> from)
    {
        var set = new SortedSet<int>();
        var stack = new Stack<int>(from);
        while (stack.Count > 0)
        {
            var s = stack.Pop();
            if (!set.Add(s)) continue;
            foreach (var t in nfa.Epsilon[s]) stack.Push(t);
        }
        return set;
    }

    /// <summary>Drops the states that cannot reach acceptance and renumbers the rest (start stays 0).</summary>
    internal static Dfa Prune(int[] next, bool[] accepting)
    {
        var n = accepting.Length;
        var live = (bool[])accepting.Clone();
        for (var changed = true; changed;)
        {
            changed = false;
            for (var s = 0; s < n; s++)
            {
                if (live[s]) continue;
                for (var c = 0; c < Dfa.Alphabet && !live[s]; c++)
                    if (next[s * Dfa.Alphabet + c] is var t && t >= 0 && live[t]) live[s] = changed = true;
            }
        }
        if (!live[0]) throw Unsupported("the pattern matches no string.");
        var map = new int[n];
        var count = 0;
        for (var s = 0; s < n; s++) map[s] = live[s] ? count++ : -1;
        var outNext = new int[count * Dfa.Alphabet];
        var outAccepting = new bool[count];
        for (var s = 0; s < n; s++)
        {
            if (!live[s]) continue;
            outAccepting[map[s]] = accepting[s];
            for (var c = 0; c < Dfa.Alphabet; c++)
            {
                var t = next[s * Dfa.Alphabet + c];
                outNext[map[s] * Dfa.Alphabet + c] = t >= 0 ? map[t] : -1;
            }
        }
        return new Dfa(outNext, outAccepting);
    }
}

/// <summary>A pattern outside <see cref="RegexCompiler"/>'s subset; the message says why.</summary>
public sealed class RegexNotSupportedException(string message) : Exception(message);

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
public static class RegexCompiler
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

    /// <summary>A parsed piece, rebuilt into NFA fragments on demand (repetitions copy it).</summary>
    private abstract record Ast;
    private sealed record SetAst(Symbols Set) : Ast;
    private sealed record SeqAst(List<Ast> Items) : Ast;
    private sealed record AltAst(List<Ast> Options) : Ast;
    private sealed record RepeatAst(Ast Item, int Min, int Max) : Ast; // Max -1: unbounded

    private sealed class Parser(string p, Nfa nfa)
    {
        private int _i;

        public (int Start, int End) TopLevel()
        {
            // Top-level alternatives, each with its own optional anchors.
            var options = new List<Ast>();
            while (true)
            {
                var anchoredStart = Eat('^');
                var items = Sequence(topLevel: true, out var anchoredEnd);
                if (!anchoredStart) items.Insert(0, new RepeatAst(new SetAst(Symbols.AnyChar), 0, -1));
                if (!anchoredEnd) items.Add(new RepeatAst(new SetAst(Symbols.AnyChar), 0, -1));
                options.Add(new SeqAst(items));
                if (_i >= p.Length) break;
                if (!Eat('|')) throw Unsupported($"unexpected '{p[_i]}' at {_i}.");
            }
            return Build(options.Count == 1 ? options[0] : new AltAst(options));
        }

        private bool Eat(char c)
        {
            if (_i < p.Length && p[_i] == c) { _i++; return true; }
            return false;
        }

        private List<Ast> Sequence(bool topLevel, out bool anchoredEnd)
        {
            anchoredEnd = false;
            var items = new List<Ast>();
            while (_i < p.Length && p[_i] is not ('|' or ')'))
            {
                if (p[_i] == '$')
                {
                    _i++;
                    if (!topLevel || (_i < p.Length && p[_i] != '|')) throw Unsupported("'$' is supported only at the end of the pattern or of a top-level alternative.");
                    anchoredEnd = true;
                    break;
                }
                if (p[_i] == '^') throw Unsupported("'^' is supported only at the start of the pattern or of a top-level alternative.");
                items.Add(Quantified(Atom()));
            }
            return items;
        }

        private Ast Alternation()
        {
            var options = new List<Ast> { new SeqAst(Sequence(false, out _)) };
            while (Eat('|')) options.Add(new SeqAst(Sequence(false, out _)));
            return options.Count == 1 ? options[0] : new AltAst(options);
        }

        private Ast Atom()
        {
            var c = p[_i++];
            switch (c)
            {
                case '(':
                    if (Eat('?'))
                    {
                        if (!Eat(':')) throw Unsupported("lookaround and named or flagged groups are not supported; use (…) or (?:…).");
                    }
                    var inner = Alternation();
                    if (!Eat(')')) throw Unsupported("unbalanced '('.");
                    return inner;
                case '[': return new SetAst(Class());
                case '.': return new SetAst(new Symbols(UInt128.MaxValue & ~((UInt128.One << '\n') | (UInt128.One << '\r')), true)); // no line terminators
                case '\\': return new SetAst(Escape(inClass: false));
                case '*' or '+' or '?': throw Unsupported($"nothing to repeat before '{c}' at {_i - 1}.");
                default: return new SetAst(Literal(c));
            }
        }

        private static Symbols Literal(int c) =>
            c < 128 ? Symbols.Of(c) : throw Unsupported("non-ASCII characters in patterns are not supported.");

        private Ast Quantified(Ast atom)
        {
            while (_i < p.Length)
            {
                int min, max;
                switch (p[_i])
                {
                    case '*': _i++; (min, max) = (0, -1); break;
                    case '+': _i++; (min, max) = (1, -1); break;
                    case '?': _i++; (min, max) = (0, 1); break;
                    case '{' when TryBraces(out min, out max): break;
                    default: return atom;
                }
                Eat('?'); // lazy: the same language
                atom = new RepeatAst(atom, min, max);
            }
            return atom;
        }

        private bool TryBraces(out int min, out int max)
        {
            min = max = 0;
            var close = p.IndexOf('}', _i);
            if (close < 0) return false;
            var body = p[(_i + 1)..close];
            var parts = body.Split(',');
            if (parts.Length > 2 || !int.TryParse(parts[0], out min)) return false;
            if (parts.Length == 1) max = min;
            else if (parts[1].Length == 0) max = -1;
            else if (!int.TryParse(parts[1], out max)) return false;
            if (min < 0 || (max >= 0 && max < min) || min > 1000 || max > 1000) throw Unsupported("repetition counts must be 0…1000 with min ≤ max.");
            _i = close + 1;
            return true;
        }

        private Symbols Class()
        {
            var negate = Eat('^');
            Symbols set = default;
            var first = true;
            while (_i < p.Length && (p[_i] != ']' || first))
            {
                first = false;
                Symbols item;
                int? single = null;
                if (p[_i] == '\\')
                {
                    _i++;
                    item = Escape(inClass: true);
                    if (IsSingle(item, out var ch)) single = ch;
                }
                else
                {
                    single = p[_i++];
                    item = Literal(single.Value);
                }
                if (single is { } lo && _i + 1 < p.Length && p[_i] == '-' && p[_i + 1] != ']')
                {
                    _i++;
                    int hi;
                    if (p[_i] == '\\')
                    {
                        _i++;
                        if (!IsSingle(Escape(inClass: true), out hi)) throw Unsupported("a class range must end in a single character.");
                    }
                    else hi = p[_i++];
                    if (hi >= 128) throw Unsupported("non-ASCII characters in patterns are not supported.");
                    if (hi < lo) throw Unsupported("a class range is reversed.");
                    item = Symbols.Range(lo, hi);
                }
                set = set.Union(item);
            }
            if (!Eat(']')) throw Unsupported("unterminated character class.");
            return negate ? set.Negate() : set;
        }

        private static bool IsSingle(Symbols s, out int c)
        {
            c = -1;
            if (s.Other || System.Numerics.BitOperations.PopCount((ulong)s.Ascii) + System.Numerics.BitOperations.PopCount((ulong)(s.Ascii >> 64)) != 1) return false;
            for (c = 0; c < 128; c++) if (s.Has(c)) return true;
            return false;
        }

        private Symbols Escape(bool inClass)
        {
            if (_i >= p.Length) throw Unsupported("the pattern ends in '\\'.");
            var c = p[_i++];
            var digits = Symbols.Range('0', '9');
            var word = Symbols.Range('a', 'z').Union(Symbols.Range('A', 'Z')).Union(digits).Union(Symbols.Of('_'));
            var space = Symbols.Of(' ').Union(Symbols.Range('\t', '\r'));
            var ascii = Symbols.AnyChar with { Other = false };
            switch (c)
            {
                case 'd': return digits;
                case 'w': return word;
                case 's': return space;
                // Negations stay ASCII: flavours disagree on which other characters are digits, letters or spaces.
                case 'D': return new(ascii.Ascii & ~digits.Ascii, false);
                case 'W': return new(ascii.Ascii & ~word.Ascii, false);
                case 'S': return new(ascii.Ascii & ~space.Ascii, false);
                case 't': return Symbols.Of('\t');
                case 'n': return Symbols.Of('\n');
                case 'r': return Symbols.Of('\r');
                case 'f': return Symbols.Of('\f');
                case 'v': return Symbols.Of('\v');
                case 'x': return Literal(Hex(2));
                case 'u': return Literal(Hex(4));
                case 'b' when inClass: return Symbols.Of('\b');
                default:
                    if (char.IsAsciiLetterOrDigit(c)) throw Unsupported($"the escape '\\{c}' is not supported.");
                    return Literal(c);
            }
        }

        private int Hex(int n)
        {
            if (_i + n > p.Length || !int.TryParse(p.AsSpan(_i, n), System.Globalization.NumberStyles.HexNumber, null, out var v))
                throw Unsupported("a \\x or \\u escape needs hex digits.");
            _i += n;
            return v;
        }

        private (int Start, int End) Build(Ast ast)
        {
            switch (ast)
            {
                case SetAst s:
                {
                    int a = nfa.Add(), b = nfa.Add();
                    nfa.Edge[a] = (s.Set, b);
                    return (a, b);
                }
                case SeqAst seq:
                {
                    var start = nfa.Add();
                    var end = start;
                    foreach (var item in seq.Items)
                    {
                        var (s, e) = Build(item);
                        nfa.Epsilon[end].Add(s);
                        end = e;
                    }
                    return (start, end);
                }
                case AltAst alt:
                {
                    int start = nfa.Add(), end = nfa.Add();
                    foreach (var option in alt.Options)
                    {
                        var (s, e) = Build(option);
                        nfa.Epsilon[start].Add(s);
                        nfa.Epsilon[e].Add(end);
                    }
                    return (start, end);
                }
                case RepeatAst r:
                {
                    var start = nfa.Add();
                    var end = start;
                    for (var k = 0; k < r.Min; k++)
                    {
                        var (s, e) = Build(r.Item);
                        nfa.Epsilon[end].Add(s);
                        end = e;
                    }
                    if (r.Max < 0)
                    {
                        var (s, e) = Build(r.Item);
                        nfa.Epsilon[end].Add(s);
                        nfa.Epsilon[e].Add(s);
                        var exit = nfa.Add();
                        nfa.Epsilon[end].Add(exit);
                        nfa.Epsilon[e].Add(exit);
                        return (start, exit);
                    }
                    var done = nfa.Add();
                    for (var k = r.Min; k < r.Max; k++)
                    {
                        nfa.Epsilon[end].Add(done);
                        var (s, e) = Build(r.Item);
                        nfa.Epsilon[end].Add(s);
                        end = e;
                    }
                    nfa.Epsilon[end].Add(done);
                    return (start, done);
                }
                default: throw new InvalidOperationException();
            }
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

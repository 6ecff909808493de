namespace QwenAspire.Engine.Sampling.Constraints;

// The pattern parser: recursive descent over the supported subset into Ast pieces, then NFA fragments.
public static partial class RegexCompiler
{
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
}

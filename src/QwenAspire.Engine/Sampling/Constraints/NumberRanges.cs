using System.Globalization;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// Bounds on a non-integer number (<c>minimum</c>/<c>maximum</c>/<c>exclusive*</c>) as a digit automaton, so the
/// value is in range by construction. The automaton spells plain decimals, <c>-?(0|[1-9][0-9]*)(\.[0-9]+)?</c>
/// with at most <see cref="JsonMachine.MaxIntegerDigits"/> integer and <see cref="JsonMachine.MaxFractionDigits"/>
/// fraction digits and no exponent: a subset of JSON numbers, so validators accept what it writes, and one where
/// the value can be compared with a bound digit by digit. Its states are explored from the comparison itself
/// (sign, phase, digits read, and for each bound whether the magnitude read so far is below, equal to or above
/// it), then pruned, so a mask never lets the number leave the range. "-0" and "-0.0" are the value 0.
/// </summary>
public static class NumberRanges
{
    private const byte Start = 0, Minus = 1, Zero = 2, Int = 3, Dot = 4, Frac = 5;

    /// <summary>Exploration stops here (a fine <c>multipleOf</c> multiplies the states by its step's digits).</summary>
    public const int MaxStates = 20_000;

    /// <summary>
    /// The automaton for numbers x with lo ≤ x ≤ hi (strict where the flag says; null bounds are open), multiples
    /// of <paramref name="multipleOf"/> when set, and integers only (no fraction) when <paramref name="integer"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No number the automaton can spell lies in the range, or it needs too many states.</exception>
    public static Dfa Build(decimal? lo, bool loStrict, decimal? hi, bool hiStrict, decimal? multipleOf = null, bool integer = false)
    {
        var step = multipleOf is { } m ? DivisorOf(m) : default;
        // x ≥ 0 reads its magnitude against lo (as a lower bound) and hi (upper); x = −y reads y against −hi (lower) and −lo (upper).
        // A bound of 0 stays a bound on both sides: "x < 0" must refuse "-0".
        var positive = Branch(lo is { } l && l >= 0 ? l : null, loStrict, hi, hiStrict);
        var negative = Branch(hi is { } h && h <= 0 ? -h : null, hiStrict, lo is { } l2 ? -l2 : null, loStrict);
        var states = new Dictionary<State, int>();
        var list = new List<State>();
        var next = new List<int>();
        int Intern(State s)
        {
            if (states.TryGetValue(s, out var id)) return id;
            states[s] = list.Count;
            list.Add(s);
            return list.Count - 1;
        }
        Intern(new State(Start, false, 0, 0, 0, 0, 0));
        for (var i = 0; i < list.Count; i++)
        {
            if (list.Count > MaxStates) throw new ArgumentException($"the bounds and multipleOf need more than {MaxStates} automaton states.");
            var s = list[i];
            var branch = s.Negative ? negative : positive;
            for (var c = 0; c < Dfa.Alphabet; c++)
                next.Add(Step(s, c, s.Phase == Start && c == '-' ? negative : branch, step, integer) is { } t ? Intern(t) : -1);
        }
        var accepting = list.Select(s => Accepts(s, s.Negative ? negative : positive) && IsMultiple(s, step)).ToArray();
        try { return RegexCompiler.Prune([.. next], accepting); }
        catch (RegexNotSupportedException) { throw new ArgumentException("no number with at most 16 integer and 16 fraction digits lies within the bounds."); }
    }

    /// <summary>Where a number is: its phase, digits read, and per bound the comparison of the digits read so far (−1, 0, 1).</summary>
    /// <paramref name="Rem"/>: the digits read so far (as one integer, up to the step's fraction places) modulo the step's numerator.
    private readonly record struct State(byte Phase, bool Negative, int Digits, int Fraction, sbyte Lower, sbyte Upper, int Rem);

    /// <summary>multipleOf m = A·10^−K: x is a multiple when x·10^K is an integer divisible by A. A = 0: no multipleOf.</summary>
    private readonly record struct Divisor(long A, int K);

    private static Divisor DivisorOf(decimal m)
    {
        if (m <= 0) throw new ArgumentException("multipleOf must be greater than 0.");
        var text = m.ToString("0.############################", CultureInfo.InvariantCulture);
        var k = text.Contains('.') ? text.Length - text.IndexOf('.') - 1 : 0;
        if (k > JsonMachine.MaxFractionDigits) throw new ArgumentException($"multipleOf has more than {JsonMachine.MaxFractionDigits} fraction digits.");
        var scaled = m;
        for (var i = 0; i < k; i++) scaled *= 10;
        if (scaled > MaxStates) throw new ArgumentException($"multipleOf {text} needs more than {MaxStates} automaton states.");
        return new Divisor((long)scaled, k);
    }

    private static bool IsMultiple(State s, Divisor m)
    {
        if (m.A == 0) return true;
        long r = s.Rem;
        for (var j = s.Phase == Frac ? Math.Min(s.Fraction, m.K) : 0; j < m.K; j++) r = r * 10 % m.A; // pad to K places
        return r == 0;
    }

    private static State? Remainder(State s, int c, Divisor m)
    {
        if (m.A == 0) return s;
        if (s.Phase == Frac && s.Fraction > m.K) return c == '0' ? s : null; // past the step's places only zeros
        return s with { Rem = (int)((s.Rem * 10L + (c - '0')) % m.A) };
    }

    /// <summary>A magnitude bound: canonical integer digits, fraction digits without trailing zeros.</summary>
    private sealed record Bound(string Integer, string Fraction, bool Strict);

    /// <summary>The bounds on the magnitude y ≥ 0 of one sign; <see cref="Empty"/> when an upper bound is negative.</summary>
    private sealed record Limits(Bound? Lower, Bound? Upper, bool Empty);

    private static Limits Branch(decimal? lower, bool lowerStrict, decimal? upper, bool upperStrict)
    {
        if (upper is < 0) return new Limits(null, null, Empty: true);
        return new Limits(lower is { } l ? Digits(l, lowerStrict) : null, upper is { } u ? Digits(u, upperStrict) : null, Empty: false);
    }

    private static Bound Digits(decimal value, bool strict)
    {
        var text = value.ToString("0.############################", CultureInfo.InvariantCulture);
        var dot = text.IndexOf('.');
        return dot < 0 ? new Bound(text, "", strict) : new Bound(text[..dot], text[(dot + 1)..], strict);
    }

    /// <summary>One character; a digit read (integer or fraction) also moves the remainder.</summary>
    private static State? Step(State s, int c, Limits limits, Divisor m, bool integer)
    {
        var t = Step(s, c, limits, integer);
        return t is { } x && x.Phase != Dot && (x.Digits != s.Digits || x.Fraction != s.Fraction) ? Remainder(x, c, m) : t;
    }

    private static State? Step(State s, int c, Limits limits, bool integer)
    {
        if (limits.Empty && s.Phase != Start) return null;
        var digit = c is >= '0' and <= '9';
        switch (s.Phase)
        {
            case Start when c == '-':
                return limits.Empty ? null : s with { Phase = Minus, Negative = true };
            case Start or Minus when digit:
                if (limits.Empty) return null;
                return Compare(s with { Phase = c == '0' ? Zero : Int }, c, limits);
            case Int when digit:
                return s.Digits < JsonMachine.MaxIntegerDigits ? Compare(s, c, limits) : null;
            case Zero or Int when c == '.' && !integer:
                return s with { Phase = Dot, Digits = 0, Fraction = 0, Lower = IntegerPart(s, s.Lower, limits.Lower), Upper = IntegerPart(s, s.Upper, limits.Upper) };
            case Dot or Frac when digit:
                return s.Fraction < JsonMachine.MaxFractionDigits ? Compare(s with { Phase = Frac }, c, limits) : null;
            default:
                return null;
        }
    }

    /// <summary>Reads one digit into each bound's comparison (still equal: this digit against the bound's digit at the same place).</summary>
    private static State Compare(State s, int c, Limits limits)
    {
        if (s.Phase is Zero or Int)
        {
            var at = s.Digits;
            return s with { Digits = at + 1, Lower = IntegerDigit(s.Lower, at, c, limits.Lower), Upper = IntegerDigit(s.Upper, at, c, limits.Upper) };
        }
        var j = s.Fraction;
        return s with { Fraction = j + 1, Lower = FractionDigit(s.Lower, j, c, limits.Lower), Upper = FractionDigit(s.Upper, j, c, limits.Upper) };
    }

    // Integer part: only the common prefix is compared here; a longer or shorter integer part is settled when it ends.
    private static sbyte IntegerDigit(sbyte cmp, int at, int c, Bound? b) =>
        b is null || cmp != 0 || at >= b.Integer.Length ? cmp : (sbyte)Math.Sign(c - b.Integer[at]);

    private static sbyte FractionDigit(sbyte cmp, int at, int c, Bound? b) =>
        b is null || cmp != 0 ? cmp : (sbyte)Math.Sign(c - (at < b.Fraction.Length ? b.Fraction[at] : '0'));

    private static bool Accepts(State s, Limits limits)
    {
        if (limits.Empty || s.Phase is not (Zero or Int or Frac)) return false;
        return Within(Final(s, s.Lower, limits.Lower), limits.Lower, lower: true) && Within(Final(s, s.Upper, limits.Upper), limits.Upper, lower: false);
    }

    /// <summary>The comparison of the integer part with the bound's (lengths first: both are canonical).</summary>
    private static sbyte IntegerPart(State s, sbyte cmp, Bound? b) =>
        b is null ? (sbyte)0 : s.Digits != b.Integer.Length ? (sbyte)Math.Sign(s.Digits - b.Integer.Length) : cmp;

    /// <summary>The comparison of the whole magnitude with the bound once the number ends here.</summary>
    private static sbyte Final(State s, sbyte cmp, Bound? b)
    {
        if (b is null) return 0;
        if (s.Phase is Zero or Int) cmp = IntegerPart(s, cmp, b);
        var read = s.Phase == Frac ? s.Fraction : 0;
        return cmp == 0 && read < b.Fraction.Length ? (sbyte)-1 : cmp; // equal so far, but the bound has nonzero digits left
    }

    private static bool Within(sbyte cmp, Bound? b, bool lower) =>
        b is null || (lower ? cmp > 0 || (cmp == 0 && !b.Strict) : cmp < 0 || (cmp == 0 && !b.Strict));
}

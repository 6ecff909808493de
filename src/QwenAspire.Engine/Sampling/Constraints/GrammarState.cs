namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// The automaton's state: the distinct stacks still alive (one unless a union is undecided). Immutable, with
/// value equality over its stacks, so it serves as the mask cache key.
/// </summary>
internal sealed class GrammarState : IEquatable<GrammarState>
{
    /// <summary>More live alternatives than this means a pathological union; the request fails rather than crawl.</summary>
    public const int MaxAlternatives = 256;
    private readonly Frame[] _stacks;
    private readonly int _hash;

    public GrammarState(Frame[] stacks)
    {
        _stacks = stacks;
        var h = new HashCode();
        foreach (var s in stacks) h.Add(s);
        _hash = h.ToHashCode();
    }

    public static GrammarState Initial(SchemaNode root) => new([Frame.RootOf(root)]);

    public ReadOnlySpan<Frame> Stacks => _stacks;
    public bool IsDead => _stacks.Length == 0;
    public bool IsAccepting => Array.Exists(_stacks, JsonMachine.IsAccepting);

    /// <summary>True when no byte at all can follow (the value is complete and closed).</summary>
    public bool IsFinished => Array.TrueForAll(_stacks, s => s is { Kind: FrameKind.Root, Phase: JsonMachine.RootDone });

    /// <summary>Feeds one byte to every stack into <paramref name="scratch"/> (cleared first); dedupes; false when none survives.</summary>
    public static bool Step(ReadOnlySpan<Frame> stacks, byte b, List<Frame> scratch)
    {
        scratch.Clear();
        foreach (var s in stacks) JsonMachine.Feed(s, b, scratch);
        if (scratch.Count > 1) Dedupe(scratch);
        if (scratch.Count > MaxAlternatives)
            throw new InvalidOperationException($"The schema keeps more than {MaxAlternatives} alternatives open at once; simplify its anyOf/oneOf.");
        return scratch.Count > 0;
    }

    private static void Dedupe(List<Frame> frames)
    {
        var n = 0;
        for (var i = 0; i < frames.Count; i++)
        {
            var seen = false;
            for (var k = 0; k < n && !seen; k++) seen = ReferenceEquals(frames[k], frames[i]) || frames[k].Equals(frames[i]);
            if (!seen) frames[n++] = frames[i];
        }
        frames.RemoveRange(n, frames.Count - n);
    }

    /// <summary>The state after <paramref name="bytes"/>, or a dead state.</summary>
    public GrammarState Advance(ReadOnlySpan<byte> bytes)
    {
        var current = new List<Frame>(_stacks);
        var next = new List<Frame>();
        foreach (var b in bytes)
        {
            if (!Step(current.ToArray(), b, next)) return new GrammarState([]);
            (current, next) = (next, current);
        }
        return new GrammarState([.. current]);
    }

    public bool Equals(GrammarState? other)
    {
        if (other is null || other._hash != _hash || other._stacks.Length != _stacks.Length) return false;
        for (var i = 0; i < _stacks.Length; i++) if (!_stacks[i].Equals(other._stacks[i])) return false;
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as GrammarState);
    public override int GetHashCode() => _hash;
}

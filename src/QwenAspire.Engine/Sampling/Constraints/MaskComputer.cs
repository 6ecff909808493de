using System.Runtime.InteropServices;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// Computes a state's <see cref="TokenMask"/>. Inside a string (the common, expensive case: most of the
/// vocabulary is allowed) it reads the precomputed <see cref="StringTokenTable"/> and checks only the tokens
/// that close the string against the parent. Elsewhere it walks the token trie depth-first, feeding each
/// edge's byte to the automaton and pruning a branch as soon as no stack survives, so the cost follows what
/// the grammar allows. Reuses its buffers: one instance per thread.
/// </summary>
internal sealed class MaskComputer(TokenVocabulary vocabulary)
{
    private readonly TokenTrie _trie = vocabulary.Trie;
    private readonly List<Frame>[] _levels = [.. Enumerable.Range(0, vocabulary.Trie.MaxTokenBytes + 2).Select(_ => new List<Frame>())];
    private readonly ulong[] _bits = new ulong[(vocabulary.Count + 63) / 64];
    private readonly List<Frame> _a = [], _b = [];
    private int _count;

    public TokenMask Compute(GrammarState state)
    {
        Array.Clear(_bits);
        _count = 0;
        var stacks = state.Stacks;
        var inString = true;
        foreach (var s in stacks) inString &= s is { Kind: FrameKind.String, Phase: 0, Node: StringNode { Pattern: null } }; // the table knows plain strings only
        if (inString)
        {
            foreach (var s in stacks) AddStringTokens(s, vocabulary.Strings);
        }
        else if (FastPatterns && stacks.Length == 1 && stacks[0] is { Kind: FrameKind.String, Phase: 0, Node: StringNode { Pattern: not null } } f)
        {
            PatternWalk(f, 0, 0, (int)f.Mask, f.Pos, 0, 0);
        }
        else
        {
            _levels[0].Clear();
            _levels[0].AddRange(stacks);
            Walk(0, 0);
        }
        return new TokenMask(_bits, _count, vocabulary.Count, state.IsAccepting, vocabulary.EosTokenIds);
    }

    /// <summary>Off: pattern strings take the general walk (tests compare the two).</summary>
    public bool FastPatterns { get; init; } = true;

    private void AllowAt(int child)
    {
        var token = _trie.TokenAt(child);
        if (token < 0) return;
        Allow(token);
        if (_trie.DuplicatesAt(child) is { } more) foreach (var id in more) Allow(id);
    }

    /// <summary>
    /// Inside a pattern string, the bytes that stay inside (ASCII characters, UTF-8 sequences) follow the pattern
    /// automaton as plain ints, as <see cref="JsonMachine"/>'s string frame does, with no frames made; a quote,
    /// a backslash or a byte after it goes to the general walk from the frame the machine would be in. The
    /// general walk costs a frame per trie node, and a pattern string (email, hostname) lets most ASCII
    /// tokens through: about 60–100 ms per cold mask on Qwen3's trie, against well under 1 ms here.
    /// </summary>
    private void PatternWalk(Frame f, int node, int depth, int state, int count, int utf8Left, int rule)
    {
        var s = (StringNode)f.Node;
        var end = _trie.End(node);
        for (var child = node + 1; child < end; child = _trie.End(child))
        {
            var b = _trie.ByteOf(child);
            int nextState = state, nextCount = count, nextLeft = 0, nextRule = 0;
            if (utf8Left > 0)
            {
                if (!JsonMachine.Utf8Continues(rule, b)) continue;
                nextLeft = utf8Left - 1;
            }
            else if (b is (byte)'"' or (byte)'\\')
            {
                GeneralChild(f with { Pos = count, Next = 0, Ws = 0, Mask = state }, child, depth);
                continue;
            }
            else
            {
                if (b < 0x20 || count >= s.MaxLength) continue;
                nextCount = s.Bounded ? count + 1 : 0;
                if (b < 0x80) nextState = JsonMachine.PatternNext(s, state, b, nextCount);
                else if (JsonMachine.Utf8Lead(b, out nextLeft, out nextRule)) nextState = JsonMachine.PatternNext(s, state, Dfa.NonAscii, nextCount);
                else continue;
                if (nextState < 0) continue;
            }
            AllowAt(child);
            if (child + 1 < _trie.End(child)) PatternWalk(f, child, depth + 1, nextState, nextCount, nextLeft, nextRule);
        }
    }

    /// <summary>One child of the pattern walk through the full machine, from <paramref name="frame"/>.</summary>
    private void GeneralChild(Frame frame, int child, int depth)
    {
        _levels[depth].Clear();
        _levels[depth].Add(frame);
        if (!GrammarState.Step(CollectionsMarshal.AsSpan(_levels[depth]), _trie.ByteOf(child), _levels[depth + 1])) return;
        AllowAt(child);
        if (child + 1 < _trie.End(child)) Walk(child, depth + 1);
    }

    private void Allow(int id)
    {
        ref var word = ref _bits[id >> 6];
        var bit = 1UL << id;
        if ((word & bit) != 0) return;
        word |= bit;
        _count++;
    }

    private void AddStringTokens(Frame s, StringTokenTable table)
    {
        var node = (StringNode)s.Node;
        var room = node.MaxLength == int.MaxValue ? int.MaxValue : node.MaxLength - s.Pos;
        if (room == int.MaxValue && _count == 0)
        {
            table.InsideBits.CopyTo(_bits, 0);
            _count = table.InsideIds.Length;
        }
        else
        {
            for (var i = 0; i < table.InsideIds.Length && table.InsideChars[i] <= room; i++) Allow(table.InsideIds[i]);
        }
        var parent = s.Parent!;
        foreach (var exit in table.Exits)
        {
            if (exit.CharsBefore > room || s.Pos + exit.CharsBefore < node.MinLength) continue;
            if (exit.Suffix.Length == 0 || Survives(parent, exit.Suffix)) Allow(exit.Id);
        }
    }

    private bool Survives(Frame start, byte[] suffix)
    {
        _a.Clear();
        _a.Add(start);
        var (current, next) = (_a, _b);
        foreach (var b in suffix)
        {
            if (!GrammarState.Step(CollectionsMarshal.AsSpan(current), b, next)) return false;
            (current, next) = (next, current);
        }
        return true;
    }

    private void Walk(int node, int depth)
    {
        var end = _trie.End(node);
        var here = CollectionsMarshal.AsSpan(_levels[depth]);
        var next = _levels[depth + 1];
        for (var child = node + 1; child < end; child = _trie.End(child))
        {
            if (!GrammarState.Step(here, _trie.ByteOf(child), next)) continue;
            var token = _trie.TokenAt(child);
            if (token >= 0)
            {
                Allow(token);
                if (_trie.DuplicatesAt(child) is { } more) foreach (var id in more) Allow(id);
            }
            // Walk reuses deeper buffers only; `here` (this depth) is untouched by it.
            if (child + 1 < _trie.End(child)) Walk(child, depth + 1);
        }
    }
}

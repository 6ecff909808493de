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
        else
        {
            _levels[0].Clear();
            _levels[0].AddRange(stacks);
            Walk(0, 0);
        }
        return new TokenMask(_bits, _count, vocabulary.Count, state.IsAccepting, vocabulary.EosTokenIds);
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

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// Every ordinary token's bytes in one trie, laid out in depth-first order so a node's subtree is the range
/// [node, <see cref="End"/>[node]): its first child is node + 1 and a child's next sibling is End[child].
/// Built once per tokenizer; the mask walk visits only the branches the grammar lets through.
/// </summary>
public sealed class TokenTrie
{
    private readonly byte[] _byte;
    private readonly int[] _end;
    private readonly int[] _token;
    private readonly Dictionary<int, int[]> _duplicates;

    /// <param name="tokenBytes">Bytes per token id; null or empty: the token is never allowed by a grammar.</param>
    public TokenTrie(IReadOnlyList<byte[]?> tokenBytes)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        var ids = Enumerable.Range(0, tokenBytes.Count).Where(i => tokenBytes[i] is { Length: > 0 }).ToArray();
        Array.Sort(ids, (a, b) => tokenBytes[a].AsSpan().SequenceCompareTo(tokenBytes[b]) is var c && c != 0 ? c : a.CompareTo(b));

        var bytes = new List<byte> { 0 };
        var ends = new List<int> { 0 };
        var tokens = new List<int> { -1 };
        var extra = new Dictionary<int, List<int>>();
        var path = new List<int> { 0 }; // node index per depth along the current token
        byte[] previous = [];
        foreach (var id in ids)
        {
            var t = tokenBytes[id]!;
            var common = 0;
            while (common < t.Length && common < previous.Length && t[common] == previous[common]) common++;
            for (var d = path.Count - 1; d > common; d--) ends[path[d]] = bytes.Count; // close the nodes we leave
            path.RemoveRange(common + 1, path.Count - common - 1);
            for (var d = common; d < t.Length; d++)
            {
                path.Add(bytes.Count);
                bytes.Add(t[d]);
                ends.Add(0);
                tokens.Add(-1);
            }
            var node = path[^1];
            if (tokens[node] < 0) tokens[node] = id;
            else (extra.TryGetValue(node, out var l) ? l : extra[node] = []).Add(id);
            previous = t;
        }
        for (var d = path.Count - 1; d >= 0; d--) ends[path[d]] = bytes.Count;
        _byte = [.. bytes];
        _end = [.. ends];
        _token = [.. tokens];
        _duplicates = extra.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        MaxTokenBytes = ids.Length == 0 ? 0 : ids.Max(i => tokenBytes[i]!.Length);
    }

    public int NodeCount => _byte.Length;
    public int MaxTokenBytes { get; }

    /// <summary>The byte on the edge into <paramref name="node"/>.</summary>
    public byte ByteOf(int node) => _byte[node];

    public int End(int node) => _end[node];

    /// <summary>The token whose bytes end at <paramref name="node"/>, or -1.</summary>
    public int TokenAt(int node) => _token[node];

    /// <summary>Further tokens with the same bytes (rare; none in Qwen3's vocabulary).</summary>
    public int[]? DuplicatesAt(int node) => _duplicates.GetValueOrDefault(node);
}

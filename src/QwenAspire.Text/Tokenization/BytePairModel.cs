using System.Collections.Concurrent;
using System.Text;

namespace QwenAspire.Text.Tokenization;

/// <summary>
/// Byte-level BPE: a pre-token's UTF-8 bytes start as single-byte tokens and the pair with the lowest
/// merge rank (leftmost on ties) is merged until none is left, as HF <c>tokenizers</c> does. Results
/// are cached per pre-token, since natural text repeats its words.
/// </summary>
internal sealed class BytePairModel
{
    private const int MaxCachedWordLength = 128;
    private const int MaxCacheEntries = 200_000;

    private readonly int[] _byteIds;
    private readonly Dictionary<long, int> _mergeRanks;
    private readonly int[] _mergeResults;
    private readonly IReadOnlyDictionary<string, int>? _wholeWords;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;

    [ThreadStatic] private static Scratch? t_scratch;

    /// <param name="byteIds">Vocab id of each single byte.</param>
    /// <param name="merges">Merges in rank order: (left id, right id, merged id).</param>
    /// <param name="wholeWords">HF's <c>ignore_merges</c>: a pre-token that is itself in this vocab is one token.</param>
    public BytePairModel(int[] byteIds, IReadOnlyList<(int Left, int Right, int Merged)> merges, IReadOnlyDictionary<string, int>? wholeWords = null)
    {
        _byteIds = byteIds;
        _wholeWords = wholeWords;
        _mergeRanks = new Dictionary<long, int>(merges.Count);
        _mergeResults = new int[merges.Count];
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right, merged) = merges[rank];
            // A pair listed twice keeps its first (lowest) rank, as in HF.
            if (_mergeRanks.TryAdd(Key(left, right), rank)) _mergeResults[rank] = merged;
        }
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int MergeCount => _mergeResults.Length;

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Appends the ids of one pre-token (given as text) to <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<char> word, List<int> output)
    {
        if (_cacheBySpan.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        var scratch = t_scratch ??= new Scratch();
        var byteCount = Encoding.UTF8.GetByteCount(word);
        var bytes = scratch.Bytes(byteCount);
        Encoding.UTF8.GetBytes(word, bytes);
        var ids = _wholeWords is not null && _wholeWords.TryGetValue(ByteLevel.BytesToToken(bytes), out var whole)
            ? [whole]
            : Merge(bytes, scratch);
        output.AddRange(ids);
        if (word.Length <= MaxCachedWordLength && _cache.Count < MaxCacheEntries) _cacheBySpan.TryAdd(word, ids);
    }

    /// <summary>BPE over raw bytes; returns the final ids.</summary>
    internal int[] Merge(ReadOnlySpan<byte> bytes, Scratch scratch)
    {
        var n = bytes.Length;
        if (n == 0) return [];
        if (n == 1) return [_byteIds[bytes[0]]];

        var (ids, prev, next) = scratch.Symbols(n);
        for (var i = 0; i < n; i++)
        {
            ids[i] = _byteIds[bytes[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // Priority = rank, then position: the lowest rank merges first, leftmost on ties. Stale entries
        // (a side already merged away) are skipped when popped, like HF's Word::merge_all.
        var queue = scratch.Queue;
        queue.Clear();
        for (var i = 0; i + 1 < n; i++) PushPair(queue, ids, i, i + 1);

        var alive = n;
        while (queue.TryDequeue(out var pos, out var priority))
        {
            var rank = (int)(priority >> 32);
            if (ids[pos] < 0) continue;
            var right = next[pos];
            if (right < 0) continue;
            if (!_mergeRanks.TryGetValue(Key(ids[pos], ids[right]), out var current) || current != rank) continue;

            ids[pos] = _mergeResults[rank];
            ids[right] = -1;
            var after = next[right];
            next[pos] = after;
            if (after >= 0) prev[after] = pos;
            alive--;

            if (prev[pos] >= 0) PushPair(queue, ids, prev[pos], pos);
            if (after >= 0) PushPair(queue, ids, pos, after);
        }

        var result = new int[alive];
        for (int i = 0, k = 0; i >= 0; i = next[i]) result[k++] = ids[i];
        return result;
    }

    private void PushPair(PriorityQueue<int, long> queue, int[] ids, int left, int right)
    {
        if (_mergeRanks.TryGetValue(Key(ids[left], ids[right]), out var rank))
            queue.Enqueue(left, ((long)rank << 32) | (uint)left);
    }

    /// <summary>Per-thread buffers so that cache misses allocate only their result.</summary>
    internal sealed class Scratch
    {
        private byte[] _bytes = new byte[256];
        private int[] _ids = new int[256], _prev = new int[256], _next = new int[256];
        public PriorityQueue<int, long> Queue { get; } = new();

        public Span<byte> Bytes(int n)
        {
            if (_bytes.Length < n) _bytes = new byte[Math.Max(n, _bytes.Length * 2)];
            return _bytes.AsSpan(0, n);
        }

        public (int[] Ids, int[] Prev, int[] Next) Symbols(int n)
        {
            if (_ids.Length < n)
            {
                var size = Math.Max(n, _ids.Length * 2);
                _ids = new int[size]; _prev = new int[size]; _next = new int[size];
            }
            return (_ids, _prev, _next);
        }
    }
}

using System.Runtime.InteropServices;

namespace QwenAspire.Engine.Generation;

/// <summary>
/// The KV pool's bookkeeping (nano-vllm's block manager, no tensors): fixed-size blocks, a free list,
/// reference counts and a prefix cache of full blocks. A full block is registered under a hash chained
/// over the previous block's hash, its tokens and the adapter identity, but only once its K/V has been
/// computed (<see cref="Register"/> after the step), so a hit is always real data. A hit is confirmed
/// against the cached block's own tokens, adapter id and parent block (id and version), so a hash
/// collision can never share the wrong K/V. Freed blocks keep their hash and stay hittable until the
/// free list hands them out again: blocks without a hash go first, then cached ones, least recently freed
/// first. Engine thread only, except the counters, which other threads may read.
/// </summary>
internal sealed class BlockManager
{
    private sealed class Block
    {
        public int RefCount;
        public bool Hashed;
        public ulong Hash;
        public long AdapterId;
        public int[] Tokens = [];
        /// <summary>Block before this one in the sequence it was registered from (-1: first block).</summary>
        public int Parent = -1;
        public int ParentVersion;
        /// <summary>Bumped whenever the block is handed out again, so children registered under its old content stop matching.</summary>
        public int Version;
        public LinkedListNode<int>? FreeNode;
    }

    private readonly Block[] _blocks;
    private readonly LinkedList<int> _free = new();
    private readonly Dictionary<ulong, int> _cache = [];
    private readonly BlockHasher _hasher;
    private readonly bool _prefixCaching;
    private readonly List<int> _hits = [];
    private int _freeCount;
    private long _queriedTokens;
    private long _hitTokens;

    public BlockManager(int blockSize, int blockCount, bool prefixCaching = true, BlockHasher? hasher = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        BlockSize = blockSize;
        BlockCount = blockCount;
        _prefixCaching = prefixCaching;
        _hasher = hasher ?? BlockHashes.Default;
        _blocks = new Block[blockCount];
        for (var i = 0; i < blockCount; i++)
        {
            _blocks[i] = new Block();
            _blocks[i].FreeNode = _free.AddLast(i);
        }
        _freeCount = blockCount;
    }

    public int BlockSize { get; }
    public int BlockCount { get; }
    /// <summary>Blocks with no owner (some still hold prefix-cache entries). Safe to read from any thread.</summary>
    public int FreeBlocks => Volatile.Read(ref _freeCount);
    public int UsedBlocks => BlockCount - FreeBlocks;
    /// <summary>Prompt tokens looked up in the prefix cache at allocation (any thread).</summary>
    public long QueriedTokens => Interlocked.Read(ref _queriedTokens);
    /// <summary>Of those, tokens served from cached blocks (any thread).</summary>
    public long HitTokens => Interlocked.Read(ref _hitTokens);
    /// <summary>Blocks currently registered in the prefix cache (used or free).</summary>
    public int CachedBlocks => _cache.Count;

    public int BlocksFor(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    /// <summary>Reference count of a block (tests and invariants).</summary>
    public int RefCount(int block) => _blocks[block].RefCount;

    /// <summary>
    /// Whether <see cref="Allocate"/> would succeed now (cache hits on used blocks cost nothing) and leave at least
    /// <paramref name="reserve"/> blocks free.
    /// </summary>
    public bool CanAllocate(Sequence sequence, int reserve = 0)
    {
        Match(sequence);
        var needed = BlocksFor(sequence.Tokens.Count) - _hits.Count;
        foreach (var id in _hits) if (_blocks[id].RefCount == 0) needed++;
        return needed + reserve <= _freeCount;
    }

    /// <summary>Leading tokens of <paramref name="sequence"/> the prefix cache holds right now (whole blocks).</summary>
    public int CachedPrefixTokens(Sequence sequence) => Match(sequence) * BlockSize;

    /// <summary>
    /// Gives <paramref name="sequence"/> blocks for all its tokens: cached blocks for its longest cached
    /// prefix (whole blocks, at most <c>Tokens.Count - 1</c> tokens: the last token is always computed, so
    /// it has logits and never writes into a shared block), fresh ones for the rest. Sets
    /// <see cref="Sequence.ComputedTokens"/> to the hit length and returns it.
    /// </summary>
    public int Allocate(Sequence sequence)
    {
        if (sequence.BlockTable.Count != 0) throw new InvalidOperationException($"Sequence {sequence.Id} already holds blocks.");
        if (!CanAllocate(sequence)) throw new InvalidOperationException($"Not enough free KV blocks for sequence {sequence.Id}.");
        foreach (var id in _hits)
        {
            var block = _blocks[id];
            if (block.RefCount++ == 0) TakeFromFreeList(block);
            sequence.BlockTable.Add(id);
        }
        var hitTokens = _hits.Count * BlockSize;
        for (var i = _hits.Count; i < BlocksFor(sequence.Tokens.Count); i++) sequence.BlockTable.Add(TakeFresh());
        sequence.ComputedTokens = hitTokens;
        sequence.HashedBlocks = _hits.Count;
        Interlocked.Add(ref _queriedTokens, sequence.Tokens.Count);
        Interlocked.Add(ref _hitTokens, hitTokens);
        return hitTokens;
    }

    /// <summary>Whether the blocks <paramref name="sequence"/>'s tokens need beyond its table are free (a decode's next block).</summary>
    public bool CanAppend(Sequence sequence) => BlocksFor(sequence.Tokens.Count) - sequence.BlockTable.Count <= _freeCount;

    /// <summary>Adds the blocks that <see cref="CanAppend"/> checked for.</summary>
    public void MayAppend(Sequence sequence)
    {
        if (!CanAppend(sequence)) throw new InvalidOperationException($"Not enough free KV blocks to extend sequence {sequence.Id}.");
        while (sequence.BlockTable.Count < BlocksFor(sequence.Tokens.Count)) sequence.BlockTable.Add(TakeFresh());
    }

    /// <summary>
    /// Registers the blocks that became full with computed K/V (call after the step that computed them,
    /// once <see cref="Sequence.ComputedTokens"/> is advanced).
    /// </summary>
    public void Register(Sequence sequence)
    {
        if (!_prefixCaching) return;
        var full = Math.Min(sequence.ComputedTokens / BlockSize, sequence.BlockTable.Count);
        for (var i = sequence.HashedBlocks; i < full; i++)
        {
            var id = sequence.BlockTable[i];
            var block = _blocks[id];
            var hash = HashOf(sequence, i);
            block.Hashed = true;
            block.Hash = hash;
            block.AdapterId = sequence.AdapterId;
            block.Tokens = CollectionsMarshal.AsSpan(sequence.Tokens).Slice(i * BlockSize, BlockSize).ToArray();
            block.Parent = i == 0 ? -1 : sequence.BlockTable[i - 1];
            block.ParentVersion = i == 0 ? 0 : _blocks[block.Parent].Version;
            _cache[hash] = id; // a duplicate of an existing entry replaces it; the older block just stops being found
        }
        sequence.HashedBlocks = Math.Max(sequence.HashedBlocks, full);
    }

    /// <summary>Returns every block of <paramref name="sequence"/> (they stay in the prefix cache while free) and resets its progress.</summary>
    public void Free(Sequence sequence)
    {
        var table = sequence.BlockTable;
        // Last block first: when cached blocks are evicted in freeing order, a prompt's tail goes before its head.
        for (var i = table.Count - 1; i >= 0; i--)
        {
            var block = _blocks[table[i]];
            if (block.RefCount <= 0) throw new InvalidOperationException($"Block {table[i]} freed twice.");
            if (--block.RefCount > 0) continue;
            block.FreeNode = block.Hashed ? _free.AddLast(table[i]) : _free.AddFirst(table[i]);
            Volatile.Write(ref _freeCount, _freeCount + 1);
        }
        table.Clear();
        sequence.ComputedTokens = 0;
        sequence.HashedBlocks = 0;
    }

    /// <summary>Chained hash of full block <paramref name="index"/> of <paramref name="sequence"/>'s tokens (cached on the sequence).</summary>
    public ulong HashOf(Sequence sequence, int index)
    {
        var hashes = sequence.BlockHashes;
        if ((index + 1) * BlockSize > sequence.Tokens.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"Block {index} of sequence {sequence.Id} is not full.");
        var tokens = CollectionsMarshal.AsSpan(sequence.Tokens);
        for (var i = hashes.Count; i <= index; i++)
            hashes.Add(_hasher(i == 0 ? BlockHashes.Seed : hashes[i - 1], sequence.AdapterId, tokens.Slice(i * BlockSize, BlockSize)));
        return hashes[index];
    }

    /// <summary>Fills <see cref="_hits"/> with the cached blocks of <paramref name="sequence"/>'s longest cached prefix; returns their count.</summary>
    private int Match(Sequence sequence)
    {
        _hits.Clear();
        if (!_prefixCaching || sequence.SkipsPrefixCache) return 0;
        var eligible = (sequence.Tokens.Count - 1) / BlockSize;
        var tokens = CollectionsMarshal.AsSpan(sequence.Tokens);
        var parent = -1;
        for (var i = 0; i < eligible; i++)
        {
            if (!_cache.TryGetValue(HashOf(sequence, i), out var id)) break;
            var block = _blocks[id];
            var sameParent = block.Parent == parent && (parent < 0 || block.ParentVersion == _blocks[parent].Version);
            if (!sameParent || block.AdapterId != sequence.AdapterId
                || !block.Tokens.AsSpan().SequenceEqual(tokens.Slice(i * BlockSize, BlockSize))) break;
            _hits.Add(id);
            parent = id;
        }
        return _hits.Count;
    }

    private void TakeFromFreeList(Block block)
    {
        _free.Remove(block.FreeNode!);
        block.FreeNode = null;
        Volatile.Write(ref _freeCount, _freeCount - 1);
    }

    private int TakeFresh()
    {
        var id = _free.First?.Value ?? throw new InvalidOperationException("The KV pool has no free block.");
        var block = _blocks[id];
        TakeFromFreeList(block);
        if (block.Hashed)
        {
            if (_cache.TryGetValue(block.Hash, out var cached) && cached == id) _cache.Remove(block.Hash);
            block.Hashed = false;
            block.Tokens = [];
        }
        block.Version++;
        block.RefCount = 1;
        return id;
    }
}

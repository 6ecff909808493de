using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Generation;

public sealed class BlockManagerTests
{
    internal static Sequence Seq(IEnumerable<int> tokens, long adapterId = 0, int adapterSlot = 0) =>
        new(new GenerationRequest("r", null, [.. tokens], new SamplingParams()), adapterSlot, adapterId);

    /// <summary>Allocates, "computes" every token and registers the full blocks, as a finished step would.</summary>
    private static void Prefill(BlockManager blocks, Sequence s)
    {
        blocks.Allocate(s);
        s.ComputedTokens = s.Tokens.Count;
        blocks.Register(s);
    }

    [Fact]
    public void AllocationGivesDistinctBlocksAndFreeReturnsThemAll()
    {
        var blocks = new BlockManager(4, 8);
        var a = Seq(Enumerable.Range(0, 9));
        var b = Seq(Enumerable.Range(100, 5));
        blocks.Allocate(a);
        blocks.Allocate(b);
        Assert.Equal(3, a.BlockTable.Count);
        Assert.Equal(2, b.BlockTable.Count);
        Assert.Equal(5, a.BlockTable.Concat(b.BlockTable).Distinct().Count());
        Assert.Equal((5, 3), (blocks.UsedBlocks, blocks.FreeBlocks));
        Assert.All(a.BlockTable, id => Assert.Equal(1, blocks.RefCount(id)));
        blocks.Free(a);
        blocks.Free(b);
        Assert.Equal((0, 8), (blocks.UsedBlocks, blocks.FreeBlocks));
        Assert.Empty(a.BlockTable);
        Assert.Throws<InvalidOperationException>(() => blocks.Allocate(Seq(Enumerable.Range(0, 33))));
    }

    [Fact]
    public void CanAllocateCountsRoomAndCanAppendAsksForTheNextBlockOnly()
    {
        var blocks = new BlockManager(4, 3);
        var a = Seq(Enumerable.Range(0, 8));
        Assert.True(blocks.CanAllocate(a));
        blocks.Allocate(a);
        Assert.False(blocks.CanAllocate(Seq(Enumerable.Range(50, 5))));
        Assert.True(blocks.CanAllocate(Seq(Enumerable.Range(50, 4))));
        Assert.True(blocks.CanAppend(a)); // 8 tokens in 2 blocks: no new block yet
        a.Tokens.Add(1);
        Assert.True(blocks.CanAppend(a));
        blocks.MayAppend(a);
        Assert.Equal((3, 0), (a.BlockTable.Count, blocks.FreeBlocks));
        a.Tokens.AddRange([1, 1, 1, 1]);
        Assert.False(blocks.CanAppend(a));
        Assert.Throws<InvalidOperationException>(() => blocks.MayAppend(a));
    }

    [Fact]
    public void APrefixHitsOnlyOnceItsBlocksAreRegisteredAndSharesThem()
    {
        var blocks = new BlockManager(4, 16);
        var a = Seq(Enumerable.Range(0, 10));
        blocks.Allocate(a);
        var early = Seq(Enumerable.Range(0, 10));
        Assert.Equal(0, blocks.Allocate(early)); // a's K/V is not computed yet: no hit on unwritten data
        blocks.Free(early);
        a.ComputedTokens = 10;
        blocks.Register(a);

        var b = Seq(Enumerable.Range(0, 10).Append(77));
        Assert.Equal(8, blocks.Allocate(b));
        Assert.Equal(8, b.ComputedTokens);
        Assert.Equal(a.BlockTable[..2], b.BlockTable[..2]);
        Assert.NotEqual(a.BlockTable[2], b.BlockTable[2]);
        Assert.Equal(2, blocks.RefCount(a.BlockTable[0]));
        blocks.Free(a);
        Assert.Equal(1, blocks.RefCount(b.BlockTable[0]));
        Assert.Equal((31L, 8L), (blocks.QueriedTokens, blocks.HitTokens)); // a, early and b were all looked up
    }

    [Fact]
    public void TheLastPromptTokenIsNeverAHitSoItsBlockIsNeverShared()
    {
        var blocks = new BlockManager(4, 16);
        Prefill(blocks, Seq(Enumerable.Range(0, 8)));
        var again = Seq(Enumerable.Range(0, 8));
        Assert.Equal(4, blocks.Allocate(again)); // block 1 holds the last token: computed again, in a fresh block
        Assert.Equal(1, blocks.RefCount(again.BlockTable[1]));
    }

    [Fact]
    public void TheAdapterIdIsPartOfTheHash()
    {
        var blocks = new BlockManager(4, 16);
        Prefill(blocks, Seq(Enumerable.Range(0, 9), adapterId: 1));
        Assert.Equal(0, blocks.CachedPrefixTokens(Seq(Enumerable.Range(0, 9), adapterId: 0)));
        Assert.Equal(0, blocks.CachedPrefixTokens(Seq(Enumerable.Range(0, 9), adapterId: 2))); // the same name reloaded gets a new id
        Assert.Equal(8, blocks.CachedPrefixTokens(Seq(Enumerable.Range(0, 9), adapterId: 1)));
    }

    [Fact]
    public void HashesChainOverThePreviousBlocks()
    {
        var blocks = new BlockManager(4, 16);
        Prefill(blocks, Seq([1, 2, 3, 4, 5, 6, 7, 8, 9]));
        // Same second block, different first block: the second block's K/V depends on the first, so no hit.
        Assert.Equal(0, blocks.CachedPrefixTokens(Seq([9, 9, 9, 9, 5, 6, 7, 8, 9])));
        Assert.Equal(4, blocks.CachedPrefixTokens(Seq([1, 2, 3, 4, 0, 6, 7, 8, 9])));
        Assert.Equal(8, blocks.CachedPrefixTokens(Seq([1, 2, 3, 4, 5, 6, 7, 8, 0])));
    }

    [Fact]
    public void HashCollisionsNeverGiveAFalseHit()
    {
        // Every block hashes alike: only the stored tokens, adapter id and parent can tell them apart.
        var blocks = new BlockManager(4, 16, hasher: (_, _, _) => 42);
        Prefill(blocks, Seq([1, 2, 3, 4, 9]));
        Assert.Equal(0, blocks.CachedPrefixTokens(Seq([1, 2, 3, 5, 9])));
        Assert.Equal(0, blocks.CachedPrefixTokens(Seq([1, 2, 3, 4, 9], adapterId: 3)));
        Assert.Equal(4, blocks.CachedPrefixTokens(Seq([1, 2, 3, 4, 9])));

        // A hash that ignores the chain: the block [2,2,2,2] is found by tokens alone.
        var chained = new BlockManager(4, 16, hasher: (_, _, tokens) => (ulong)tokens[0]);
        Prefill(chained, Seq([1, 1, 1, 1, 2, 2, 2, 2, 0]));
        Prefill(chained, Seq([3, 3, 3, 3, 0]));
        // [2,2,2,2] is cached, but as the child of [1,1,1,1]: after [3,3,3,3] its K/V would be wrong.
        var other = Seq([3, 3, 3, 3, 2, 2, 2, 2, 0]);
        Assert.Equal(4, chained.CachedPrefixTokens(other));
        Assert.Equal(4, chained.Allocate(other));
    }

    [Fact]
    public void FreedBlocksStayCachedAndTheLeastRecentlyFreedAreEvictedFirst()
    {
        var blocks = new BlockManager(4, 6);
        var a = Seq(Enumerable.Range(0, 9));  // 3 blocks, 2 full and registered
        var b = Seq(Enumerable.Range(50, 9));
        Prefill(blocks, a);
        Prefill(blocks, b);
        blocks.Free(a);
        blocks.Free(b);
        Assert.Equal(6, blocks.FreeBlocks);
        Assert.Equal(4, blocks.CachedBlocks);
        Assert.Equal(8, blocks.CachedPrefixTokens(Seq(Enumerable.Range(0, 9))));

        // 3 fresh blocks: first the two never-hashed tails, then a's last full block (freed first, tail first).
        blocks.Allocate(Seq(Enumerable.Range(200, 12)));
        Assert.Equal(4, blocks.CachedPrefixTokens(Seq(Enumerable.Range(0, 9))));
        Assert.Equal(8, blocks.CachedPrefixTokens(Seq(Enumerable.Range(50, 9))));
        Assert.Equal(3, blocks.CachedBlocks);
    }

    [Fact]
    public void AHitOnAFreeCachedBlockTakesItOffTheFreeList()
    {
        var blocks = new BlockManager(4, 3);
        var a = Seq(Enumerable.Range(0, 9));
        Prefill(blocks, a);
        blocks.Free(a);
        var again = Seq(Enumerable.Range(0, 9));
        Assert.True(blocks.CanAllocate(again));
        Assert.Equal(8, blocks.Allocate(again));
        Assert.Equal(0, blocks.FreeBlocks);
        Assert.False(blocks.CanAllocate(Seq([1])));
        blocks.Free(again);
        Assert.Equal(3, blocks.FreeBlocks);
    }

    [Fact]
    public void PrefixCachingCanBeTurnedOff()
    {
        var blocks = new BlockManager(4, 16, prefixCaching: false);
        Prefill(blocks, Seq(Enumerable.Range(0, 9)));
        Assert.Equal(0, blocks.Allocate(Seq(Enumerable.Range(0, 9))));
    }
}

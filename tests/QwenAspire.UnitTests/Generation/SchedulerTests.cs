using QwenAspire.Engine.Generation;

namespace QwenAspire.UnitTests.Generation;

public sealed class SchedulerTests
{
    private static Sequence Seq(int length, int first = 0, long adapterId = 0, int adapterSlot = 0) =>
        BlockManagerTests.Seq(Enumerable.Range(first, length), adapterId, adapterSlot);

    private static Scheduler NewScheduler(int budget = 256, int maxRunning = 8, int blockSize = 4, int blocks = 64) =>
        new(new EngineOptions { MaxBatchedTokens = budget, MaxRunningSequences = maxRunning }, blockSize, blocks);

    /// <summary>Schedules, checks the batch, "runs" it and appends a token to every sequence that samples.</summary>
    private static ScheduledStep Step(Scheduler scheduler)
    {
        var step = scheduler.Schedule() ?? throw new InvalidOperationException("nothing scheduled");
        step.Batch?.Validate();
        if (step.Batch is { } batch)
        {
            var slots = new HashSet<int>();
            for (var row = 0; row < batch.TokenCount; row++)
            {
                Assert.True(slots.Add(batch.SlotMapping[row]), $"slot {batch.SlotMapping[row]} written twice in one step");
                var q = Array.FindLastIndex(batch.QueryStarts, start => start <= row);
                Assert.Equal(1, scheduler.Blocks.RefCount(batch.BlockTables[q][batch.Positions[row] / batch.BlockSize]));
            }
        }
        scheduler.Postprocess(step.Chunks);
        foreach (var c in step.Chunks) if (c.Samples) c.Sequence.Tokens.Add(7);
        return step;
    }

    [Fact]
    public void ALongPromptIsChunkedWithinTheTokenBudget()
    {
        var scheduler = NewScheduler(budget: 8);
        var a = Seq(20);
        scheduler.Add(a);
        var counts = new List<(int Start, int Count, bool Samples)>();
        for (var i = 0; i < 3; i++) counts.AddRange(Step(scheduler).Chunks.Select(c => (c.Start, c.Count, c.Samples)));
        Assert.Equal([(0, 8, false), (8, 8, false), (16, 4, true)], counts);
        Assert.Equal(21, a.Tokens.Count);
        Assert.Equal(20, a.ComputedTokens);
        Assert.Equal((20, 1), (Step(scheduler).Chunks.Single().Start, a.ComputedTokens - 20));
    }

    [Fact]
    public void DecodesAndPromptChunksShareOneStepAndOnlyFinishedChunksGetLogits()
    {
        var scheduler = NewScheduler(budget: 8);
        var a = Seq(3);
        scheduler.Add(a);
        Step(scheduler);
        var b = Seq(20, first: 100);
        scheduler.Add(b);
        var step = Step(scheduler);
        Assert.Equal([(a, 3, 1), (b, 0, 7)], step.Chunks.Select(c => (c.Sequence, c.Start, c.Count)));
        Assert.Equal([0], step.Batch!.LogitsRows); // a's decode row; b's chunk does not reach its end
        Assert.Equal(8, step.Batch.TokenCount);
        step = Step(scheduler);
        Assert.Equal([(a, 4, 1), (b, 7, 7)], step.Chunks.Select(c => (c.Sequence, c.Start, c.Count)));
    }

    [Fact]
    public void SequencesOfDifferentAdaptersShareAStep()
    {
        var scheduler = NewScheduler();
        scheduler.Add(Seq(5));
        scheduler.Add(Seq(5, adapterId: 1, adapterSlot: 1));
        scheduler.Add(Seq(5, adapterId: 2, adapterSlot: 2));
        Assert.Equal([0, 1, 2], Step(scheduler).Batch!.AdapterSlots);
    }

    [Fact]
    public void AdmissionNeedsKvRoomNotJustASeat()
    {
        var scheduler = NewScheduler(blocks: 4);
        var a = Seq(12);
        var b = Seq(8, first: 50);
        scheduler.Add(a);
        scheduler.Add(b);
        var step = Step(scheduler);
        Assert.Equal([a], step.Admitted);
        Assert.Equal(1, scheduler.WaitingCount);
        scheduler.Finish(a);
        Assert.Equal([b], Step(scheduler).Admitted);
    }

    [Fact]
    public void RunningSequencesAreCappedByMaxRunningSequences()
    {
        var scheduler = NewScheduler(maxRunning: 2);
        for (var i = 0; i < 3; i++) scheduler.Add(Seq(2, first: i * 10));
        Assert.Equal(2, Step(scheduler).Chunks.Count);
        Assert.Equal(2, Step(scheduler).Chunks.Count);
        Assert.Equal(1, scheduler.WaitingCount);
    }

    [Fact]
    public void WhenADecodeNeedsABlockTheNewestRunningSequenceIsPreemptedAndRecomputesLater()
    {
        var scheduler = NewScheduler(blockSize: 2, blocks: 6);
        var (a, b, c) = (Seq(3), Seq(3, first: 10), Seq(3, first: 20));
        scheduler.Add(a);
        scheduler.Add(b);
        scheduler.Add(c);
        Step(scheduler); // all three prefilled: 2 blocks each, pool full; each now has 4 tokens
        Step(scheduler); // decode position 3: still in block 1; now 5 tokens each
        var step = Step(scheduler); // position 4 needs a third block: c (newest) goes
        Assert.Equal([c], step.Preempted);
        Assert.Equal([a, b], step.Chunks.Select(x => x.Sequence));
        Assert.Equal([c], scheduler.Waiting);
        Assert.Equal((0, 0, 5), (c.ComputedTokens, c.BlockTable.Count, c.Tokens.Count));

        step = Step(scheduler); // a and b need no block now (6 tokens in 3 blocks), c cannot come back: no room
        Assert.Empty(step.Preempted);
        Assert.Equal(1, scheduler.WaitingCount);
        scheduler.Finish(a);
        scheduler.Finish(b);
        step = Step(scheduler);
        var recompute = step.Chunks.Single(x => x.Sequence == c);
        Assert.Equal((0, 5, true), (recompute.Start, recompute.Count, recompute.Samples)); // its tokens so far, then it samples on
        Assert.Empty(step.Admitted); // admitted once already
        Assert.Equal(6, c.Tokens.Count);
    }

    [Fact]
    public void ALoneSequenceThatOutgrowsThePoolPreemptsItselfThenIsRejectedNotLeftWaiting()
    {
        var scheduler = NewScheduler(blockSize: 2, blocks: 2);
        var lone = Seq(3);
        scheduler.Add(lone);
        Step(scheduler);
        Step(scheduler);
        var step = Step(scheduler);
        Assert.Equal([lone], step.Preempted); // its 5th token needs a 3rd block of 2
        Assert.Equal([lone], step.Rejected); // and alone it can never come back
        Assert.True(scheduler.IsIdle);
        Assert.Null(scheduler.Schedule());
        Assert.Equal(0, scheduler.Blocks.UsedBlocks);
    }

    [Fact]
    public void APromptThatCanNeverFitThePoolIsRejected()
    {
        var scheduler = NewScheduler(blockSize: 2, blocks: 2);
        var big = Seq(5);
        scheduler.Add(big);
        var step = scheduler.Schedule()!;
        Assert.Equal([big], step.Rejected);
        Assert.Null(step.Batch);
        Assert.True(scheduler.IsIdle);
        Assert.Null(scheduler.Schedule());
    }

    [Fact]
    public void SiblingsWithTheSamePromptWaitForTheFirstAndThenShareItsBlocks()
    {
        var scheduler = NewScheduler();
        var first = Seq(9);
        var second = Seq(9);
        scheduler.Add(first);
        scheduler.Add(second);
        Assert.Equal([first], Step(scheduler).Admitted);
        var step = Step(scheduler);
        Assert.Equal([second], step.Admitted);
        Assert.Equal((8, 1), (step.Chunks[1].Start, step.Chunks[1].Count));
        Assert.Equal(first.BlockTable[..2], second.BlockTable[..2]);
        Assert.Equal(8, scheduler.Blocks.HitTokens);
    }

    [Fact]
    public void RandomTrafficKeepsEveryStepValidAndEveryBlockAccountedFor()
    {
        var rng = new Random(7);
        var scheduler = NewScheduler(budget: 16, maxRunning: 6, blockSize: 4, blocks: 24);
        var live = new List<Sequence>();
        var prefixes = Enumerable.Range(0, 4).Select(p => Enumerable.Range(p * 100, 12).ToArray()).ToArray();
        var preemptions = 0;
        for (var i = 0; i < 600; i++)
        {
            if (live.Count < 10 && rng.Next(3) == 0)
            {
                var prefix = prefixes[rng.Next(prefixes.Length)].Take(rng.Next(1, 13));
                var s = BlockManagerTests.Seq(prefix.Concat(Enumerable.Range(1000 + i, rng.Next(0, 20))), adapterId: rng.Next(2), adapterSlot: 0);
                scheduler.Add(s);
                live.Add(s);
            }
            if (scheduler.IsIdle) continue;
            var step = Step(scheduler);
            preemptions += step.Preempted.Count;
            foreach (var s in step.Rejected) live.Remove(s);
            foreach (var s in live.Where(s => s.CompletionLength >= 15 || (s.CompletionLength > 0 && rng.Next(20) == 0)).ToList())
            {
                scheduler.Finish(s);
                live.Remove(s);
            }
            var held = scheduler.Running.SelectMany(s => s.BlockTable).Distinct().Count();
            Assert.Equal(held, scheduler.Blocks.UsedBlocks);
            Assert.All(scheduler.Waiting, s => Assert.Empty(s.BlockTable));
        }
        foreach (var s in live) scheduler.Finish(s);
        Assert.Equal(0, scheduler.Blocks.UsedBlocks);
        Assert.True(preemptions > 0, "the pool is small enough that some decodes must preempt");
        Assert.True(scheduler.Blocks.HitTokens > 0, "shared prefixes must hit the cache");
    }
}

using System.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;

namespace QwenAspire.UnitTests.Model;

/// <summary>The model runner seen through <see cref="IModelRunner"/>: paged steps over many sequences at once.</summary>
[Collection(TinyModelsCollection.Name)]
public sealed class RunnerTests(TinyModels models)
{
    private static readonly KvCacheSettings SmallPool = new(BudgetBytes: 8L << 20, BudgetFraction: null, BlockSize: 16);

    private TorchModelRunner LoadWithBothAdapters(bool merge = false) =>
        TorchModelRunner.Load(models.Base, new Dictionary<string, string> { ["all"] = models.LoraAll, ["rs"] = models.LoraRs }, "f32",
            mergeSingleAdapter: merge, kvCache: SmallPool);

    private static int SlotOf(IModelRunner runner, string name) => runner.Adapters.Single(a => a.Name == name).Slot;

    [Fact]
    public void BaseAndTwoAdaptersDecodedInOneStepReproduceTheirGoldens()
    {
        var progress = new List<ModelLoadProgress>();
        using var runner = TorchModelRunner.Load(models.Base, new Dictionary<string, string> { ["all"] = models.LoraAll, ["rs"] = models.LoraRs },
            "f32", "cpu", new SyncProgress(progress), kvCache: SmallPool);
        Assert.True(runner.ServesBaseModel);
        Assert.Equal(1.0, progress.Where(p => p.Stage == "done").Single().Fraction);
        Assert.Equal([151645, 151643], runner.GenerationConfig.EosTokenIds);
        Assert.Equal(["all", "rs"], runner.Adapters.Select(a => a.Name));
        Assert.DoesNotContain(runner.Adapters, a => a.Slot == 0);

        var prompt = Golden.Load("base")[1];
        var pool = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount);
        var cases = new (int Slot, string Variant)[] { (0, "base"), (SlotOf(runner, "all"), "lora-all"), (SlotOf(runner, "rs"), "lora-rs") };
        var sequences = cases.Select(c => pool.Add(c.Slot)).ToArray();
        var next = sequences.Select(_ => prompt.Ids).ToArray();
        var outputs = sequences.Select(_ => new List<int>()).ToArray();
        for (var step = 0; step < 32; step++)
        {
            // Every step carries all three sequences: one forward, three adapters (the first step is three prefills).
            var logits = runner.Execute(pool.Step([.. sequences.Select((s, i) => new PagedSequences.Chunk(s, next[i]))]));
            for (var i = 0; i < sequences.Length; i++)
            {
                var token = Golden.ArgMax(logits.Slice(i * runner.VocabSize, runner.VocabSize));
                outputs[i].Add(token);
                next[i] = [token];
            }
        }
        for (var i = 0; i < cases.Length; i++)
            Assert.Equal(Golden.Load(cases[i].Variant)[1].Greedy, outputs[i]);
    }

    /// <summary>
    /// One step mixing prefill chunks (a first chunk, a continued chunk) and decode rows of sequences of
    /// different lengths and adapters gives each row the logits it gets when its sequence runs alone.
    /// </summary>
    [Theory]
    [InlineData(PagedAttentionPath.Auto)]
    [InlineData(PagedAttentionPath.Torch)]
    [InlineData(PagedAttentionPath.Scalar)]
    public void MixedStepRowsEqualTheSequencesRunAlone(PagedAttentionPath path)
    {
        const double Tolerance = 1e-4;
        using var runner = LoadWithBothAdapters();
        runner.Model.AttentionPath = path;
        int all = SlotOf(runner, "all"), rs = SlotOf(runner, "rs");
        var random = new Random(3);
        int[] Tokens(int n) => [.. Enumerable.Range(0, n).Select(_ => random.Next(0, 151643))];
        // (adapter, history already in the pool, tokens this step): decodes at 1 row, chunks up to 37 rows.
        var plan = new (int Slot, int[] History, int[] Now)[]
        {
            (0, Tokens(20), Tokens(1)), (all, Tokens(33), Tokens(1)), (rs, [], Tokens(37)), (0, Tokens(15), Tokens(18)),
            (rs, Tokens(47), Tokens(1)), (all, [], Tokens(5)), (all, Tokens(16), Tokens(1)),
        };
        var vocab = runner.VocabSize;
        var alone = new List<float[]>();
        foreach (var (slot, history, now) in plan)
        {
            var single = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount, seed: 11);
            var s = single.Add(slot);
            if (history.Length > 0) runner.Execute(single.Step(s, history));
            alone.Add(runner.Execute(single.Step(s, now, [.. Enumerable.Range(0, now.Length)])).ToArray());
        }
        var pool = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount, seed: 5);
        var sequences = plan.Select(p => pool.Add(p.Slot)).ToArray();
        // Histories in one batched step of their own (prefills of several lengths together), then the mixed step.
        var withHistory = plan.Select((p, i) => (p, i)).Where(x => x.p.History.Length > 0).ToArray();
        runner.Execute(pool.Step([.. withHistory.Select(x => new PagedSequences.Chunk(sequences[x.i], x.p.History))]));
        var mixed = runner.Execute(pool.Step([.. plan.Select((p, i) => new PagedSequences.Chunk(sequences[i], p.Now, [.. Enumerable.Range(0, p.Now.Length)]))])).ToArray();
        double worst = 0;
        var offset = 0;
        for (var i = 0; i < plan.Length; i++)
        {
            for (var j = 0; j < alone[i].Length; j++) worst = Math.Max(worst, Math.Abs(alone[i][j] - mixed[offset + j]));
            offset += alone[i].Length;
        }
        Assert.Equal(offset, mixed.Length);
        Assert.True(worst < Tolerance, $"max |batched − alone| = {worst} ({path})");
    }

    [Fact]
    public void PureTorchForwardEqualsTheKernelPath()
    {
        using var runner = LoadWithBothAdapters();
        var prompt = Golden.Load("base")[0].Ids;
        float[] Run(PagedAttentionPath path)
        {
            runner.Model.AttentionPath = path;
            var pool = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount);
            var seqs = new[] { pool.Add(0), pool.Add(SlotOf(runner, "rs")), pool.Add(SlotOf(runner, "all")) };
            runner.Execute(pool.Step([.. seqs.Select((s, i) => new PagedSequences.Chunk(s, prompt[..(17 + 9 * i)]))]));
            var last = new List<float>();
            for (var step = 0; step < 6; step++)
                last.AddRange(runner.Execute(pool.Step([.. seqs.Select(s => new PagedSequences.Chunk(s, [100 + step]))])).ToArray());
            return [.. last];
        }
        var kernel = Run(PagedAttentionPath.Auto);
        var torchPath = Run(PagedAttentionPath.Torch);
        Assert.Equal(kernel.Length, torchPath.Length);
        var worst = kernel.Zip(torchPath, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-4, $"max |kernel − torch| = {worst}");
    }

    [Fact]
    public void SingleAdapterIsMergedOnlyWhenAskedAndThenIsSlotZero()
    {
        using var merged = TorchModelRunner.Load(models.Base, new Dictionary<string, string> { ["rs"] = models.LoraRs }, "f32", mergeSingleAdapter: true, kvCache: SmallPool);
        Assert.False(merged.ServesBaseModel);
        Assert.Equal([new RunnerAdapter("rs", 0)], merged.Adapters);
        var golden = Golden.Load("lora-rs")[0];
        Assert.Equal(golden.Greedy, Greedy(merged, 0, golden.Ids, golden.Greedy.Length));
        Assert.Throws<InvalidOperationException>(() => merged.LoadAdapter("all", models.LoraAll));

        using var unmerged = TorchModelRunner.Load(models.Base, new Dictionary<string, string> { ["rs"] = models.LoraRs }, "f32", kvCache: SmallPool);
        Assert.True(unmerged.ServesBaseModel);
        Assert.Equal(golden.Greedy, Greedy(unmerged, SlotOf(unmerged, "rs"), golden.Ids, golden.Greedy.Length));
    }

    [Fact]
    public void AdaptersLoadAndUnloadAtRunTimeAndFailuresLeaveTheRunnerAsItWas()
    {
        using var runner = TorchModelRunner.Load(models.Base, null, "f32", kvCache: SmallPool);
        var golden = Golden.Load("lora-all")[0];
        var baseline = Greedy(runner, 0, golden.Ids, 8);

        // A folder that is not there, an adapter whose factors do not fit, an adapter that targets nothing real.
        var wrongShape = models.CopyOf(models.LoraAll, "wrong-shape");
        File.WriteAllText(Path.Combine(wrongShape, "adapter_config.json"), File.ReadAllText(Path.Combine(wrongShape, "adapter_config.json")).Replace("\"r\": 4", "\"r\": 8", StringComparison.Ordinal));
        var noMatch = models.CopyOf(models.LoraAll, "no-match");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(noMatch, "adapter_config.json")))!;
        config["target_modules"] = new System.Text.Json.Nodes.JsonArray("not_a_module");
        File.WriteAllText(Path.Combine(noMatch, "adapter_config.json"), config.ToJsonString());
        foreach (var (folder, expected) in new[] { (Path.Combine(models.Root, "missing"), "not found"), (wrongShape, "shape"), (noMatch, "not_a_module") })
        {
            var e = Assert.Throws<ModelFormatException>(() => runner.LoadAdapter("bad", folder));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
            Assert.Empty(runner.Adapters);
            Assert.All(runner.Model.Linears.Values, l => Assert.Empty(l.AdapterSlots));
        }
        Assert.Equal(baseline, Greedy(runner, 0, golden.Ids, 8));

        var slot = runner.LoadAdapter("all", models.LoraAll);
        Assert.NotEqual(0, slot);
        Assert.Throws<ArgumentException>(() => runner.LoadAdapter("all", models.LoraAll));
        Assert.Equal(golden.Greedy[..8], Greedy(runner, slot, golden.Ids, 8));
        runner.UnloadAdapter(slot);
        Assert.Empty(runner.Adapters);
        Assert.All(runner.Model.Linears.Values, l => Assert.Empty(l.AdapterSlots));
        Assert.Throws<ArgumentException>(() => Greedy(runner, slot, golden.Ids, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => runner.UnloadAdapter(slot));
        // Slots are not reused: a reload gets a new one.
        Assert.NotEqual(slot, runner.LoadAdapter("all", models.LoraAll));
    }

    [Fact]
    public void BadStepsAreRefusedByNameAndTheRunnerKeepsWorking()
    {
        using var runner = TorchModelRunner.Load(models.Base, null, "f32", kvCache: SmallPool);
        var pool = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount);
        var good = pool.Step(pool.Add(), [1, 2, 3]);
        var badBlock = Clone(good, tables: [[runner.KvBlockCount + 3]], slots: [.. good.Positions.Select(p => (runner.KvBlockCount + 3) * 16 + p)]);
        Assert.Contains("outside the pool", Assert.Throws<ArgumentOutOfRangeException>(() => runner.Execute(badBlock)).Message, StringComparison.Ordinal);
        var badToken = Clone(good, ids: [1, 2, runner.VocabSize]);
        Assert.Contains("vocabulary", Assert.Throws<ArgumentOutOfRangeException>(() => runner.Execute(badToken)).Message, StringComparison.Ordinal);
        Assert.Contains("slot 9", Assert.Throws<ArgumentException>(() => runner.Execute(Clone(good, adapters: [9]))).Message, StringComparison.Ordinal);
        Assert.Equal(runner.VocabSize, runner.Execute(good).Length);
    }

    [Fact]
    public void PoolIsSizedFromTheBudgetAndSaysSo()
    {
        using var runner = TorchModelRunner.Load(models.Base, null, "f32", kvCache: new KvCacheSettings(BudgetBytes: 1L << 20, BudgetFraction: null, BlockSize: 8));
        // tiny: 2 layers × K,V × 2 kv heads × 32 dims × 4 bytes = 1 KiB per token → 1024 tokens in 1 MiB.
        Assert.Equal(8, runner.KvBlockSize);
        Assert.Equal(128, runner.KvBlockCount);
        Assert.Contains("1024 tokens / 128 blocks of 8 fit in 1.0 MiB", runner.KvCacheSummary, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchModelRunner.Load(models.Base, null, "f32", kvCache: new KvCacheSettings(BudgetBytes: 100, BudgetFraction: null)));
    }

    [Fact]
    public void ChunkedPrefillWithoutLogitsRowsEqualsOnePrefill()
    {
        using var runner = LoadWithBothAdapters();
        var prompt = Golden.Load("base")[0].Ids; // 40 tokens: chunks of 16, 16, 8 cross two block boundaries
        var slot = SlotOf(runner, "rs");
        var whole = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount);
        var once = runner.Execute(whole.Step(whole.Add(slot), prompt)).ToArray();
        var chunked = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount, seed: 3);
        var s = chunked.Add(slot);
        Assert.True(runner.Execute(chunked.Step(s, prompt[..16], [])).IsEmpty);
        Assert.True(runner.Execute(chunked.Step(s, prompt[16..32], [])).IsEmpty);
        var last = runner.Execute(chunked.Step(s, prompt[32..])).ToArray();
        Assert.True(once.Zip(last, (a, b) => Math.Abs(a - b)).Max() < 1e-4);
    }

    [Fact]
    public void ThousandDecodeStepsDoNotGrowNativeMemory()
    {
        using var runner = LoadWithBothAdapters();
        var pool = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount);
        // Slot "all" rows interleaved with a base row: its delta goes through the gathered-index path.
        var sequences = new[] { pool.Add(SlotOf(runner, "all")), pool.Add(), pool.Add(SlotOf(runner, "all")) };
        void Decode(int steps)
        {
            for (var i = 0; i < steps; i++) runner.Execute(pool.Step([.. sequences.Select(s => new PagedSequences.Chunk(s, [1 + i % 1000]))]));
        }
        Decode(50); // warm up the allocator
        GC.Collect();
        var liveBefore = LiveTensors();
        var rssBefore = Process.GetCurrentProcess().Refresh2().WorkingSet64;
        Decode(1000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var rssAfter = Process.GetCurrentProcess().Refresh2().WorkingSet64;
        // The pool is allocated once (8 MiB here); pages it first touches are the only expected growth.
        Assert.True(rssAfter - rssBefore < 64L << 20, $"RSS grew by {(rssAfter - rssBefore) >> 20} MiB over 1000 steps");
        Assert.Equal(liveBefore, LiveTensors());
    }

    private static List<int> Greedy(IModelRunner runner, int slot, int[] prompt, int count)
    {
        var pool = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount);
        var sequence = pool.Add(slot);
        var generated = new List<int>();
        var next = prompt;
        for (var i = 0; i < count; i++)
        {
            var token = Golden.ArgMax(runner.Execute(pool.Step(sequence, next)));
            generated.Add(token);
            next = [token];
        }
        return generated;
    }

    private static StepBatch Clone(StepBatch s, int[]? ids = null, int[][]? tables = null, int[]? slots = null, int[]? adapters = null) => new()
    {
        BlockSize = s.BlockSize,
        TokenIds = ids ?? s.TokenIds,
        Positions = s.Positions,
        SlotMapping = slots ?? s.SlotMapping,
        QueryStarts = s.QueryStarts,
        ContextLengths = s.ContextLengths,
        BlockTables = tables ?? s.BlockTables,
        AdapterSlots = adapters ?? s.AdapterSlots,
        LogitsRows = s.LogitsRows,
    };

    private static long LiveTensors() => TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;

    private sealed class SyncProgress(List<ModelLoadProgress> sink) : IProgress<ModelLoadProgress>
    {
        public void Report(ModelLoadProgress value) => sink.Add(value);
    }
}

internal static class ProcessExtensions
{
    public static Process Refresh2(this Process process)
    {
        process.Refresh();
        return process;
    }
}

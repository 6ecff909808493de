using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;

namespace QwenAspire.UnitTests.Model;

/// <summary>
/// The CPU decode fast path (own norms, RoPE, KV stores, SiLU·mul) gives the logits of the pure-torch ops, with
/// adapters on some rows, f32 and bf16 weights/KV, rows whose logits are asked out of order, and its scalar reference.
/// </summary>
[Collection(TinyModelsCollection.Name)]
public sealed class DecodeFastPathTests(TinyModels models)
{
    private static readonly KvCacheSettings SmallPool = new(BudgetBytes: 8L << 20, BudgetFraction: null, BlockSize: 16);

    [Theory]
    [InlineData("f32", DecodeStepPath.Auto, 1e-4)]
    [InlineData("f32", DecodeStepPath.Scalar, 1e-4)]
    // bf16 KV: a key the two paths compute a rounding apart may round to neighbouring bf16 values.
    [InlineData("bf16", DecodeStepPath.Auto, 2e-2)]
    public void DecodeStepsMatchTheTorchOps(string dtype, DecodeStepPath path, double tolerance)
    {
        var folder = dtype == "bf16" ? models.Bf16 : models.Base;
        var adapters = dtype == "bf16" ? null : new Dictionary<string, string> { ["all"] = models.LoraAll, ["rs"] = models.LoraRs };
        using var runner = TorchModelRunner.Load(folder, adapters, dtype, kvCache: SmallPool);
        var slots = runner.Adapters.Select(a => a.Slot).Prepend(0).ToArray();
        var prompt = Golden.Load("base")[0].Ids;
        float[] Run(DecodeStepPath decode)
        {
            runner.Model.DecodePath = decode;
            var pool = new PagedSequences(runner.KvBlockSize, runner.KvBlockCount);
            var seqs = Enumerable.Range(0, 4).Select(i => pool.Add(slots[i % slots.Length])).ToArray();
            runner.Execute(pool.Step([.. seqs.Select((s, i) => new PagedSequences.Chunk(s, prompt[..(5 + 7 * i)]))]));
            var logits = new List<float>();
            for (var step = 0; step < 5; step++)
            {
                var batch = pool.Step([.. seqs.Select((s, i) => new PagedSequences.Chunk(s, [100 + step + i]))]);
                // Odd steps ask for the rows' logits in reverse order, and only for three of them.
                if (step % 2 == 1) batch = Reordered(batch);
                logits.AddRange(runner.Execute(batch).ToArray());
            }
            return [.. logits];
        }
        var fast = Run(path);
        var torchOps = Run(DecodeStepPath.Torch);
        Assert.Equal(torchOps.Length, fast.Length);
        var worst = fast.Zip(torchOps, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < tolerance, $"max |fast − torch| = {worst} ({dtype}, {path})");
        Assert.Contains(torchOps, v => v != 0);
    }

    private static StepBatch Reordered(StepBatch b) => new()
    {
        BlockSize = b.BlockSize,
        TokenIds = b.TokenIds,
        Positions = b.Positions,
        SlotMapping = b.SlotMapping,
        QueryStarts = b.QueryStarts,
        ContextLengths = b.ContextLengths,
        BlockTables = b.BlockTables,
        AdapterSlots = b.AdapterSlots,
        LogitsRows = [3, 1, 0],
    };
}

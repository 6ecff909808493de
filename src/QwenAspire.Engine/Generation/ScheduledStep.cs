using QwenAspire.Engine.Model;

namespace QwenAspire.Engine.Generation;

/// <summary>One sequence's share of a step: tokens [Start, Start + Count) run through the model.</summary>
/// <param name="LogitsIndex">Row of the step's logits this sequence samples from (its chunk reaches its last token), or -1.</param>
/// <param name="PromptLogitsIndex">
/// With prompt logprobs pending: the step's logits row of position <see cref="Start"/>, followed by one row per later
/// prompt position of the chunk except the prompt's last (<see cref="PromptLogitsCount"/> in all); -1 otherwise.
/// </param>
internal readonly record struct ScheduledChunk(Sequence Sequence, int Start, int Count, int LogitsIndex, int PromptLogitsIndex = -1)
{
    public bool Samples => LogitsIndex >= 0;

    /// <summary>Prompt positions of the chunk whose logits score the next prompt token (all but the prompt's last position).</summary>
    public int PromptLogitsCount => PromptLogitsIndex < 0 ? 0 : PromptPositions(Sequence, Start, Count);

    public static int PromptPositions(Sequence s, int start, int count) =>
        Math.Max(0, Math.Min(start + count, s.PromptLength - 1) - start);
}

/// <summary>What <see cref="Scheduler.Schedule"/> decided for one step.</summary>
internal sealed class ScheduledStep
{
    public required IReadOnlyList<ScheduledChunk> Chunks { get; init; }
    /// <summary>The runner's view of <see cref="Chunks"/> (null when nothing runs this step).</summary>
    public required StepBatch? Batch { get; init; }
    /// <summary>Sequences that left the waiting queue for the first time this step.</summary>
    public required IReadOnlyList<Sequence> Admitted { get; init; }
    /// <summary>Running sequences sent back to waiting (their blocks freed) to make room; they recompute later.</summary>
    public required IReadOnlyList<Sequence> Preempted { get; init; }
    /// <summary>Waiting sequences that can never fit the KV pool, taken out of the queue; the caller fails them.</summary>
    public required IReadOnlyList<Sequence> Rejected { get; init; }
}

internal static class StepBatchBuilder
{
    /// <summary>Flattens the chunks into a <see cref="StepBatch"/> and numbers the logits rows of the sampling ones (and of prompt positions wanted for prompt logprobs).</summary>
    public static StepBatch Build(List<ScheduledChunk> chunks, int blockSize)
    {
        var n = 0;
        foreach (var c in chunks) n += c.Count;
        var tokens = new int[n];
        var positions = new int[n];
        var slots = new int[n];
        var queryStarts = new int[chunks.Count + 1];
        var contextLengths = new int[chunks.Count];
        var tables = new int[chunks.Count][];
        var adapterSlots = new int[chunks.Count];
        var logitsRows = new List<int>();
        var row = 0;
        for (var q = 0; q < chunks.Count; q++)
        {
            var (seq, start, count, _, _) = chunks[q];
            var table = seq.BlockTable;
            queryStarts[q] = row;
            for (var pos = start; pos < start + count; pos++, row++)
            {
                tokens[row] = seq.Tokens[pos];
                positions[row] = pos;
                slots[row] = table[pos / blockSize] * blockSize + pos % blockSize;
            }
            contextLengths[q] = start + count;
            tables[q] = [.. table];
            adapterSlots[q] = seq.AdapterSlot;
            // Prompt logprobs: position p's logits score prompt token p + 1 (rows before the sampling row, if any).
            var promptRows = seq.PromptLogprobs is null ? 0 : ScheduledChunk.PromptPositions(seq, start, count);
            var promptIndex = promptRows > 0 ? logitsRows.Count : -1;
            for (var i = 0; i < promptRows; i++) logitsRows.Add(queryStarts[q] + i);
            var samples = start + count == seq.Tokens.Count;
            chunks[q] = chunks[q] with { LogitsIndex = samples ? logitsRows.Count : -1, PromptLogitsIndex = promptIndex };
            if (samples) logitsRows.Add(row - 1);
        }
        queryStarts[chunks.Count] = n;
        return new StepBatch
        {
            BlockSize = blockSize,
            TokenIds = tokens,
            Positions = positions,
            SlotMapping = slots,
            QueryStarts = queryStarts,
            ContextLengths = contextLengths,
            BlockTables = tables,
            AdapterSlots = adapterSlots,
            LogitsRows = [.. logitsRows],
        };
    }
}

namespace QwenAspire.Engine.Model;

/// <summary>
/// One engine step as the model runner sees it: the new tokens of every scheduled sequence back to back
/// (prefill chunks and single decode tokens mixed), where each token's K/V goes in the paged pool, which
/// blocks each sequence reads, and which rows' logits the scheduler wants. Plain arrays, no torch: built by
/// the scheduler side, read by the runner, so either can be tested alone.
/// </summary>
/// <remarks>
/// Invariants (checked by <see cref="Validate"/>): sequence <c>s</c> owns token rows
/// <c>[QueryStarts[s], QueryStarts[s+1])</c>, whose positions run consecutively up to
/// <c>ContextLengths[s] - 1</c>; <c>BlockTables[s]</c> covers <c>ContextLengths[s]</c> tokens; every
/// <c>SlotMapping</c> entry equals <c>BlockTables[s][pos / BlockSize] * BlockSize + pos % BlockSize</c>.
/// </remarks>
public sealed class StepBatch
{
    /// <summary>Tokens per KV block (the pool's block size).</summary>
    public required int BlockSize { get; init; }
    /// <summary>(N) token ids of this step, sequence after sequence.</summary>
    public required int[] TokenIds { get; init; }
    /// <summary>(N) absolute position of each token in its sequence (RoPE and causal masking).</summary>
    public required int[] Positions { get; init; }
    /// <summary>(N) KV slot each token's key/value is written to: <c>block * BlockSize + offset</c>.</summary>
    public required int[] SlotMapping { get; init; }
    /// <summary>(S + 1) row offsets: sequence s's tokens are rows [QueryStarts[s], QueryStarts[s + 1]).</summary>
    public required int[] QueryStarts { get; init; }
    /// <summary>(S) tokens in sequence s's KV once this step has run (its last position + 1).</summary>
    public required int[] ContextLengths { get; init; }
    /// <summary>(S) block ids holding sequence s's KV, in order (at least ceil(ContextLengths[s] / BlockSize)).</summary>
    public required int[][] BlockTables { get; init; }
    /// <summary>(S) the runner's adapter slot of sequence s (0: the base model, or the merged adapter).</summary>
    public required int[] AdapterSlots { get; init; }
    /// <summary>(R) token rows whose logits the step returns, in this order (usually each sampled sequence's last row).</summary>
    public required int[] LogitsRows { get; init; }

    public int TokenCount => TokenIds.Length;
    public int SequenceCount => ContextLengths.Length;
    /// <summary>Rows of sequence <paramref name="s"/> (new tokens this step).</summary>
    public int QueryLength(int s) => QueryStarts[s + 1] - QueryStarts[s];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first broken invariant.</summary>
    public void Validate()
    {
        var n = TokenIds.Length;
        var s = ContextLengths.Length;
        if (BlockSize <= 0) throw new ArgumentException($"BlockSize must be positive, got {BlockSize}.", nameof(BlockSize));
        if (n == 0) throw new ArgumentException("A step needs at least one token.", nameof(TokenIds));
        if (Positions.Length != n || SlotMapping.Length != n)
            throw new ArgumentException($"Positions ({Positions.Length}) and SlotMapping ({SlotMapping.Length}) must have one entry per token ({n}).");
        if (QueryStarts.Length != s + 1 || BlockTables.Length != s || AdapterSlots.Length != s)
            throw new ArgumentException($"QueryStarts ({QueryStarts.Length}), BlockTables ({BlockTables.Length}) and AdapterSlots ({AdapterSlots.Length}) disagree with {s} sequences.");
        if (QueryStarts[0] != 0 || QueryStarts[s] != n) throw new ArgumentException("QueryStarts must run from 0 to the token count.", nameof(QueryStarts));
        for (var q = 0; q < s; q++)
        {
            int start = QueryStarts[q], end = QueryStarts[q + 1];
            if (end <= start) throw new ArgumentException($"Sequence {q} has no tokens in this step.", nameof(QueryStarts));
            var table = BlockTables[q];
            if ((long)table.Length * BlockSize < ContextLengths[q])
                throw new ArgumentException($"Sequence {q}: {table.Length} blocks cannot hold {ContextLengths[q]} tokens.", nameof(BlockTables));
            for (var row = start; row < end; row++)
            {
                var pos = ContextLengths[q] - (end - row);
                if (Positions[row] != pos) throw new ArgumentException($"Row {row}: position {Positions[row]}, expected {pos}.", nameof(Positions));
                var slot = table[pos / BlockSize] * BlockSize + pos % BlockSize;
                if (SlotMapping[row] != slot) throw new ArgumentException($"Row {row}: slot {SlotMapping[row]}, expected {slot}.", nameof(SlotMapping));
            }
        }
        foreach (var row in LogitsRows)
            if ((uint)row >= (uint)n) throw new ArgumentException($"Logits row {row} is outside the step's {n} tokens.", nameof(LogitsRows));
    }
}

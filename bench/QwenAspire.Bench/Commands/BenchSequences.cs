using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;

namespace QwenAspire.Bench.Commands;

/// <summary>Block bookkeeping for bench-model: blocks handed out in order, StepBatch laid out by hand (the engine's BlockManager does this for real).</summary>
internal sealed class BenchSequences(int blockSize, int blockCount)
{
    private int _nextBlock;

    public sealed class Sequence
    {
        public List<int> Blocks { get; } = [];
        public int Length { get; set; }
    }

    /// <summary>A sequence whose first <paramref name="length"/> positions count as already in the pool.</summary>
    public Sequence Add(int length = 0)
    {
        var s = new Sequence();
        Grow(s, length);
        s.Length = length;
        return s;
    }

    /// <summary>One step: each sequence feeds its tokens; logits for each sequence's last row; sequence i uses adapterSlots[i % n] (none: base).</summary>
    public StepBatch Step(IReadOnlyList<(Sequence Sequence, int[] Tokens)> chunks, IReadOnlyList<int>? adapterSlots = null)
    {
        List<int> ids = [], positions = [], slots = [], starts = [0], contexts = [], logits = [];
        var tables = new List<int[]>();
        foreach (var (s, tokens) in chunks)
        {
            Grow(s, s.Length + tokens.Length);
            for (var i = 0; i < tokens.Length; i++)
            {
                var pos = s.Length + i;
                ids.Add(tokens[i]);
                positions.Add(pos);
                slots.Add(s.Blocks[pos / blockSize] * blockSize + pos % blockSize);
            }
            s.Length += tokens.Length;
            starts.Add(ids.Count);
            contexts.Add(s.Length);
            tables.Add([.. s.Blocks]);
            logits.Add(ids.Count - 1);
        }
        return new StepBatch
        {
            BlockSize = blockSize,
            TokenIds = [.. ids],
            Positions = [.. positions],
            SlotMapping = [.. slots],
            QueryStarts = [.. starts],
            ContextLengths = [.. contexts],
            BlockTables = [.. tables],
            AdapterSlots = [.. chunks.Select((_, i) => adapterSlots is { Count: > 0 } a ? a[i % a.Count] : 0)],
            LogitsRows = [.. logits],
        };
    }

    private void Grow(Sequence s, int length)
    {
        while (s.Blocks.Count * blockSize < length)
        {
            if (_nextBlock >= blockCount) throw new InvalidOperationException($"bench pool of {blockCount} blocks exhausted; raise --kv-blocks.");
            s.Blocks.Add(_nextBlock++);
        }
    }
}

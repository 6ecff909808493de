using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;

namespace QwenAspire.UnitTests.Model;

/// <summary>
/// A test-side stand-in for the engine's block bookkeeping: hands out pool blocks in a shuffled order (so
/// block tables are not the identity) and lays out <see cref="StepBatch"/> objects by hand.
/// </summary>
public sealed class PagedSequences(int blockSize, int blockCount, int seed = 7)
{
    private readonly Queue<int> _free = new(Enumerable.Range(0, blockCount).ToList().Shuffled(seed));

    public int BlockSize { get; } = blockSize;

    public PagedSequence Add(int adapterSlot = 0) => new(adapterSlot);

    /// <summary>One chunk of new tokens of one sequence; <see cref="LogitsAt"/> are indices into the chunk (null: its last row).</summary>
    public sealed record Chunk(PagedSequence Sequence, int[] Tokens, int[]? LogitsAt = null);

    /// <summary>A step of one sequence's chunk.</summary>
    public StepBatch Step(PagedSequence sequence, int[] tokens, int[]? logitsAt = null) => Step([new Chunk(sequence, tokens, logitsAt)]);

    /// <summary>A step over <paramref name="chunks"/> (one per sequence, in this order), allocating blocks as the sequences grow.</summary>
    public StepBatch Step(Chunk[] chunks)
    {
        List<int> ids = [], positions = [], slots = [], starts = [0], contexts = [], adapters = [], logits = [];
        var tables = new List<int[]>();
        foreach (var (sequence, tokens, logitsAt) in chunks)
        {
            var row0 = ids.Count;
            for (var i = 0; i < tokens.Length; i++)
            {
                var pos = sequence.Length + i;
                if (pos / BlockSize >= sequence.Blocks.Count)
                {
                    if (_free.Count == 0) throw new InvalidOperationException("test pool exhausted");
                    sequence.Blocks.Add(_free.Dequeue());
                }
                ids.Add(tokens[i]);
                positions.Add(pos);
                slots.Add(sequence.Blocks[pos / BlockSize] * BlockSize + pos % BlockSize);
            }
            sequence.Length += tokens.Length;
            starts.Add(ids.Count);
            contexts.Add(sequence.Length);
            tables.Add([.. sequence.Blocks]);
            adapters.Add(sequence.AdapterSlot);
            foreach (var r in logitsAt ?? [tokens.Length - 1]) logits.Add(row0 + r);
        }
        var step = new StepBatch
        {
            BlockSize = BlockSize,
            TokenIds = [.. ids],
            Positions = [.. positions],
            SlotMapping = [.. slots],
            QueryStarts = [.. starts],
            ContextLengths = [.. contexts],
            BlockTables = [.. tables],
            AdapterSlots = [.. adapters],
            LogitsRows = [.. logits],
        };
        step.Validate();
        return step;
    }

    /// <summary>Gives <paramref name="sequence"/>'s blocks back.</summary>
    public void Free(PagedSequence sequence)
    {
        foreach (var b in sequence.Blocks) _free.Enqueue(b);
        sequence.Blocks.Clear();
        sequence.Length = 0;
    }
}

public sealed class PagedSequence(int adapterSlot)
{
    public int AdapterSlot { get; } = adapterSlot;
    public List<int> Blocks { get; } = [];
    /// <summary>Tokens whose K/V are in the pool.</summary>
    public int Length { get; set; }
}

internal static class ShuffleExtensions
{
    public static List<int> Shuffled(this List<int> list, int seed)
    {
        var random = new Random(seed);
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }
}

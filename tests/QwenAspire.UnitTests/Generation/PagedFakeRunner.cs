using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;

namespace QwenAspire.UnitTests.Generation;

/// <summary>How <see cref="PagedFakeRunner"/> turns a context into its next token.</summary>
internal enum FakeRule
{
    /// <summary>Next token = last context token + 1 (mod vocab): predictable outputs.</summary>
    PlusOne,
    /// <summary>Next token = a hash of every (token, adapter slot) of the context read back through the block table.</summary>
    ContextHash,
    /// <summary>Every token equally likely (seeded sampling tests).</summary>
    Flat,
}

/// <summary>
/// A fake PAGED model: it keeps its own slot store (what each KV slot holds: the token and the adapter slot
/// that wrote it, via <see cref="StepBatch.SlotMapping"/>) and computes each logits row only from the context
/// it reads back through the sequence's block table. A wrong block table, a stale prefix hit, a hit across
/// adapters or a write into a shared block changes what it reads, so outputs differ from a run alone.
/// </summary>
internal sealed class PagedFakeRunner : IModelRunner
{
    private readonly Lock _lock = new();
    private readonly long[] _slots;
    private readonly List<StepRecord> _steps = [];
    private readonly HashSet<int> _loadedSlots = [];
    private float[] _logits = [];
    private int _nextSlot;

    public PagedFakeRunner(int vocabSize = 32, int maxContextLength = 4096, int blockSize = 4, int blockCount = 1024,
        FakeRule rule = FakeRule.PlusOne, IReadOnlyList<RunnerAdapter>? adapters = null)
    {
        VocabSize = vocabSize;
        MaxContextLength = maxContextLength;
        KvBlockSize = blockSize;
        KvBlockCount = blockCount;
        Rule = rule;
        Adapters = adapters ?? [new RunnerAdapter("a", 1), new RunnerAdapter("b", 2)];
        foreach (var a in Adapters) _loadedSlots.Add(a.Slot);
        _nextSlot = Adapters.Count == 0 ? 1 : Adapters.Max(a => a.Slot) + 1;
        _slots = new long[blockSize * blockCount];
        Array.Fill(_slots, -1);
    }

    public int VocabSize { get; }
    public int MaxContextLength { get; }
    public int KvBlockSize { get; }
    public int KvBlockCount { get; }
    public FakeRule Rule { get; }
    public IReadOnlyList<RunnerAdapter> Adapters { get; }
    public bool ServesBaseModel { get; init; } = true;
    /// <summary>A token that makes Execute throw when it is among the step's new tokens.</summary>
    public int PoisonToken { get; init; } = -1;
    public TimeSpan StepDelay { get; init; }
    /// <summary>When set, Execute waits on it (lets a test fill the queue while the loop is busy).</summary>
    public ManualResetEventSlim? Gate { get; init; }
    public readonly ManualResetEventSlim FirstStepEntered = new();

    /// <summary>What one step looked like (for assertions on batching).</summary>
    public sealed record StepRecord(int Sequences, int Tokens, int[] AdapterSlots, int[] QueryLengths, int LogitsRows);

    public List<StepRecord> Steps { get { lock (_lock) return [.. _steps]; } }
    public int StepCount { get { lock (_lock) return _steps.Count; } }
    public List<int> UnloadedSlots { get; } = [];
    public List<(string Name, string Folder, int Slot)> LoadedAdapters { get; } = [];

    public ReadOnlySpan<float> Execute(StepBatch step)
    {
        FirstStepEntered.Set();
        Gate?.Wait(TimeSpan.FromSeconds(20));
        if (StepDelay > TimeSpan.Zero) Thread.Sleep(StepDelay);
        step.Validate();
        foreach (var slot in step.AdapterSlots)
            if (slot != 0 && !_loadedSlots.Contains(slot)) throw new InvalidOperationException($"adapter slot {slot} is not loaded");
        lock (_lock)
            _steps.Add(new StepRecord(step.SequenceCount, step.TokenCount, [.. step.AdapterSlots],
                [.. Enumerable.Range(0, step.SequenceCount).Select(step.QueryLength)], step.LogitsRows.Length));
        foreach (var t in step.TokenIds) if (t == PoisonToken) throw new InvalidOperationException("poisoned prompt");

        var rowOwner = new int[step.TokenCount];
        for (var s = 0; s < step.SequenceCount; s++)
        {
            for (var row = step.QueryStarts[s]; row < step.QueryStarts[s + 1]; row++)
            {
                rowOwner[row] = s;
                _slots[step.SlotMapping[row]] = Pack(step.TokenIds[row], step.AdapterSlots[s]);
            }
        }
        if (_logits.Length < step.LogitsRows.Length * VocabSize) _logits = new float[step.LogitsRows.Length * VocabSize];
        var output = _logits.AsSpan(0, step.LogitsRows.Length * VocabSize);
        output.Clear();
        for (var r = 0; r < step.LogitsRows.Length; r++)
        {
            var row = step.LogitsRows[r];
            var s = rowOwner[row];
            var position = step.Positions[row];
            if (Rule == FakeRule.Flat) continue;
            output[r * VocabSize + NextToken(step.BlockTables[s], position, step.AdapterSlots[s])] = 10f;
        }
        return output;
    }

    /// <summary>The rule applied to the context [0, position] as stored in the slots the block table names.</summary>
    private int NextToken(int[] table, int position, int adapterSlot)
    {
        ulong h = 1469598103934665603UL ^ (ulong)adapterSlot;
        long last = 0;
        for (var p = 0; p <= position; p++)
        {
            var packed = _slots[table[p / KvBlockSize] * KvBlockSize + p % KvBlockSize];
            if (packed < 0) throw new InvalidOperationException($"position {p} reads a slot never written");
            if ((int)(packed & 0xFFFF) != adapterSlot) throw new InvalidOperationException($"position {p} holds KV of adapter slot {packed & 0xFFFF}, not {adapterSlot}");
            last = packed >> 16;
            h = (h ^ (ulong)packed) * 1099511628211UL;
        }
        return Rule == FakeRule.PlusOne ? (int)((last + 1) % VocabSize) : (int)((h ^ (h >> 29)) % (ulong)VocabSize);
    }

    private static long Pack(int token, int adapterSlot) => ((long)token << 16) | (uint)adapterSlot;

    public int LoadAdapter(string name, string folder)
    {
        if (folder.Contains("bad", StringComparison.Ordinal)) throw new ModelFormatException(Path.Combine(folder, "adapter_config.json"), "not a LoRA adapter");
        var slot = _nextSlot++;
        _loadedSlots.Add(slot);
        LoadedAdapters.Add((name, folder, slot));
        return slot;
    }

    public void UnloadAdapter(int slot)
    {
        if (!_loadedSlots.Remove(slot)) throw new InvalidOperationException($"slot {slot} is not loaded");
        UnloadedSlots.Add(slot);
    }

    public void Dispose() => FirstStepEntered.Dispose();
}

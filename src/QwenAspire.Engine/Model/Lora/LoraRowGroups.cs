using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Lora;

/// <summary>
/// The rows of one adapter slot in a step: one contiguous range (<see cref="Index"/> null, applied through
/// a narrow view) or, when the slot's sequences are interleaved with others, the row indices (gathered and
/// scattered back with index_add_).
/// </summary>
public sealed record LoraRowGroup(int Slot, long Start, long Count, Tensor? Index);

/// <summary>
/// Which rows of a step's activations get which adapter's low-rank delta; built once per step and shared by
/// every linear layer. Rows of slot 0 (the base model, or a merged adapter) get none. Index tensors belong
/// to the caller's dispose scope (the forward's); <see cref="Dispose"/> frees them outside one.
/// </summary>
public sealed class LoraRowGroups : IDisposable
{
    private LoraRowGroups(IReadOnlyList<LoraRowGroup> groups) => Groups = groups;

    public IReadOnlyList<LoraRowGroup> Groups { get; }

    /// <summary>All <paramref name="rows"/> rows use <paramref name="slot"/>.</summary>
    public static LoraRowGroups All(int slot, long rows) => new(slot == 0 ? [] : [new LoraRowGroup(slot, 0, rows, null)]);

    /// <summary>
    /// Groups from per-sequence slots and row offsets (<paramref name="rowStarts"/> has one more entry than
    /// <paramref name="slots"/>, as <see cref="StepBatch.QueryStarts"/>).
    /// </summary>
    public static LoraRowGroups FromSequences(IReadOnlyList<int> slots, IReadOnlyList<int> rowStarts, Device device)
    {
        var groups = new List<LoraRowGroup>();
        foreach (var slot in slots.Where(s => s != 0).Distinct())
        {
            var rows = new List<long>();
            for (var s = 0; s < slots.Count; s++)
            {
                if (slots[s] != slot) continue;
                for (var r = rowStarts[s]; r < rowStarts[s + 1]; r++) rows.Add(r);
            }
            var contiguous = rows[^1] - rows[0] + 1 == rows.Count;
            groups.Add(contiguous
                ? new LoraRowGroup(slot, rows[0], rows.Count, null)
                : new LoraRowGroup(slot, rows[0], rows.Count, tensor(rows.ToArray(), device: device)));
        }
        return new LoraRowGroups(groups);
    }

    public void Dispose()
    {
        foreach (var group in Groups) group.Index?.Dispose();
    }
}

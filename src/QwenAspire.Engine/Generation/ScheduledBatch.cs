namespace QwenAspire.Engine.Generation;

/// <summary>
/// One step's work: sequences sharing one adapter, either all newly admitted (prefill: their whole
/// prompt goes through the model) or all already running (decode: one token each).
/// </summary>
internal sealed record ScheduledBatch(IReadOnlyList<ActiveSequence> Sequences, bool IsPrefill, string? Adapter)
{
    public IReadOnlyList<Sequence> ToRunnerBatch()
    {
        var list = new Sequence[Sequences.Count];
        for (var i = 0; i < list.Length; i++) list[i] = Sequences[i].Sequence;
        return list;
    }
}

namespace QwenAspire.Engine.Generation;

/// <summary>
/// Plain bookkeeping in nano-vllm's shape: a FIFO waiting queue and a running list; <see cref="Schedule"/>
/// picks the next step. Prefill comes first while there is room (new requests start streaming soon),
/// otherwise one decode step for the running sequences of one adapter. Only sequences with the same
/// adapter share a batch (llama.cpp's <c>can_batch_with</c>); adapter groups take turns.
/// Used by the engine loop only (not thread-safe).
/// </summary>
internal sealed class Scheduler(EngineOptions options)
{
    private readonly LinkedList<ActiveSequence> _waiting = new();
    private List<ActiveSequence> _running = [];

    public int WaitingCount => _waiting.Count;
    public int RunningCount => _running.Count;
    public bool IsIdle => _waiting.Count == 0 && _running.Count == 0;

    public void Add(ActiveSequence sequence) => _waiting.AddLast(sequence);

    public ScheduledBatch? Schedule()
    {
        if (_waiting.Count > 0 && _running.Count < options.MaxRunningSequences) return SchedulePrefill();
        if (_running.Count > 0) return ScheduleDecode();
        return null;
    }

    /// <summary>Removes a finished, failed or aborted sequence from the running list.</summary>
    public void Finish(ActiveSequence sequence) => _running.Remove(sequence);

    /// <summary>Takes every sequence whose abort was requested out of both queues; the caller releases them.</summary>
    public List<(ActiveSequence Sequence, bool WasWaiting)> RemoveAborted()
    {
        var removed = new List<(ActiveSequence, bool)>();
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.AbortRequested)
            {
                removed.Add((node.Value, true));
                _waiting.Remove(node);
            }
            node = next;
        }
        foreach (var s in _running) if (s.AbortRequested) removed.Add((s, false));
        if (removed.Count > 0) _running.RemoveAll(s => s.AbortRequested);
        return removed;
    }

    /// <summary>Everything still queued or running (shutdown).</summary>
    public List<(ActiveSequence Sequence, bool WasWaiting)> RemoveAll()
    {
        var all = new List<(ActiveSequence, bool)>();
        foreach (var s in _waiting) all.Add((s, true));
        foreach (var s in _running) all.Add((s, false));
        _waiting.Clear();
        _running.Clear();
        return all;
    }

    private ScheduledBatch SchedulePrefill()
    {
        var adapter = _waiting.First!.Value.Adapter;
        var batch = new List<ActiveSequence>();
        var tokens = 0;
        for (var node = _waiting.First; node is not null && _running.Count < options.MaxRunningSequences;)
        {
            var next = node.Next;
            var s = node.Value;
            if (s.Adapter == adapter)
            {
                var prompt = s.Sequence.Tokens.Count;
                if (batch.Count > 0 && tokens + prompt > options.MaxPrefillTokens) break;
                tokens += prompt;
                _waiting.Remove(node);
                _running.Add(s);
                batch.Add(s);
            }
            node = next;
        }
        return new ScheduledBatch(batch, IsPrefill: true, adapter);
    }

    private ScheduledBatch ScheduleDecode()
    {
        var adapter = _running[0].Adapter;
        var batch = new List<ActiveSequence>();
        var rest = new List<ActiveSequence>(_running.Count);
        foreach (var s in _running) (s.Adapter == adapter ? batch : rest).Add(s);
        // The group just served moves to the back so another adapter's group goes next.
        rest.AddRange(batch);
        _running = rest;
        return new ScheduledBatch(batch, IsPrefill: false, adapter);
    }
}

namespace QwenAspire.Engine.Generation;

/// <summary>
/// nano-vllm's scheduler with vLLM's chunked prefill, plain bookkeeping over a <see cref="BlockManager"/>:
/// a FIFO waiting queue and a running list (oldest first). Each step spends a token budget
/// (<see cref="EngineOptions.MaxBatchedTokens"/>): first one token for every running sequence that is
/// decoding, then chunks of the prompts still being prefilled, then newly admitted prompts, so a long
/// prompt is split across steps and running streams keep getting tokens. Admission needs KV room, not just
/// a free seat, plus a little headroom while others run (<see cref="ReservedBlocks"/>). A decode that cannot get a
/// block preempts the newest running sequence by recompute (its blocks go back; it waits at the front with all
/// its tokens to recompute). Running then waiting stays in arrival order throughout (admission takes the front
/// of waiting to the back of running, preemption the back of running to the front of waiting), so a preempted
/// sequence keeps its priority and the oldest always progresses. Sequences of any adapter share a step.
/// Engine thread only.
/// </summary>
internal sealed class Scheduler
{
    private readonly EngineOptions _options;
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];

    public Scheduler(EngineOptions options, int blockSize, int blockCount, BlockHasher? hasher = null)
    {
        _options = options;
        Blocks = new BlockManager(blockSize, blockCount, options.PrefixCaching, hasher);
    }

    public BlockManager Blocks { get; }
    public int WaitingCount => _waiting.Count;
    public int RunningCount => _running.Count;
    public bool IsIdle => _waiting.Count == 0 && _running.Count == 0;
    public IReadOnlyList<Sequence> Running => _running;
    public IEnumerable<Sequence> Waiting => _waiting;
    /// <summary>Tokens the whole pool holds: no sequence may grow beyond this.</summary>
    public int CapacityTokens => Blocks.BlockCount * Blocks.BlockSize;

    public void Add(Sequence sequence) => _waiting.AddLast(sequence);

    /// <summary>Plans the next step; null when there is nothing to do.</summary>
    public ScheduledStep? Schedule()
    {
        if (IsIdle) return null;
        var budget = _options.MaxBatchedTokens;
        var chunks = new List<ScheduledChunk>();
        var preempted = new List<Sequence>();
        var admitted = new List<Sequence>();
        var rejected = new List<Sequence>();

        // Decodes first: one token each, and the KV block it needs, preempting the newest if there is none.
        for (var i = 0; i < _running.Count && budget > 0; i++)
        {
            var s = _running[i];
            if (s.RemainingTokens != 1) continue;
            while (!Blocks.CanAppend(s))
            {
                var victim = _running[^1]; // newest; never one already scheduled (those are older than s)
                Preempt(victim);
                preempted.Add(victim);
                if (victim == s) break;
            }
            if (preempted.Count > 0 && preempted[^1] == s) break;
            Blocks.MayAppend(s);
            chunks.Add(new ScheduledChunk(s, s.ComputedTokens, 1, -1));
            budget--;
        }
        // Then the prompts already being prefilled (their blocks were allocated at admission).
        foreach (var s in _running)
        {
            if (budget == 0) break;
            if (s.RemainingTokens <= 1) continue;
            var count = ChunkLength(s, budget);
            chunks.Add(new ScheduledChunk(s, s.ComputedTokens, count, -1));
            budget -= count;
        }
        // Then new prompts, in order, while there is budget, a seat and KV room (not right after preempting: no room).
        if (preempted.Count == 0 || chunks.Count == 0)
        {
            while (_waiting.First is { } node && budget > 0 && _running.Count < _options.MaxRunningSequences)
            {
                var s = node.Value;
                if (Blocks.BlocksFor(s.Tokens.Count) > Blocks.BlockCount)
                {
                    _waiting.RemoveFirst();
                    rejected.Add(s);
                    continue;
                }
                if (WaitsForSibling(s) || !Blocks.CanAllocate(s, ReservedBlocks())) break;
                Blocks.Allocate(s);
                _waiting.RemoveFirst();
                _running.Add(s);
                if (!s.Admitted)
                {
                    s.Admitted = true;
                    admitted.Add(s);
                }
                var count = ChunkLength(s, budget);
                chunks.Add(new ScheduledChunk(s, s.ComputedTokens, count, -1));
                budget -= count;
            }
        }
        if (chunks.Count == 0 && admitted.Count == 0 && preempted.Count == 0 && rejected.Count == 0) return null;
        return new ScheduledStep
        {
            Chunks = chunks,
            Batch = chunks.Count > 0 ? StepBatchBuilder.Build(chunks, Blocks.BlockSize) : null,
            Admitted = admitted,
            Preempted = preempted,
            Rejected = rejected,
        };
    }

    /// <summary>After the runner executed <paramref name="chunks"/>: advances each sequence and registers its newly full blocks.</summary>
    public void Postprocess(IEnumerable<ScheduledChunk> chunks)
    {
        foreach (var c in chunks)
        {
            c.Sequence.ComputedTokens = c.Start + c.Count;
            Blocks.Register(c.Sequence);
        }
    }

    /// <summary>Takes a finished, failed or aborted sequence out (running or waiting) and frees its blocks at once.</summary>
    public void Finish(Sequence sequence)
    {
        if (!_running.Remove(sequence)) _waiting.Remove(sequence);
        Blocks.Free(sequence);
    }

    /// <summary>Takes every sequence matching <paramref name="predicate"/> out of both queues, freeing their blocks.</summary>
    public List<Sequence> RemoveWhere(Func<Sequence, bool> predicate)
    {
        var removed = new List<Sequence>();
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (predicate(node.Value))
            {
                removed.Add(node.Value);
                _waiting.Remove(node);
            }
            node = next;
        }
        for (var i = _running.Count - 1; i >= 0; i--)
        {
            if (!predicate(_running[i])) continue;
            removed.Add(_running[i]);
            Blocks.Free(_running[i]);
            _running.RemoveAt(i);
        }
        return removed;
    }

    /// <summary>
    /// A sequence collecting prompt logprobs gets a full logits row per prompt token, so its chunks are capped at
    /// <see cref="MaxPromptLogitsRows"/> whatever the budget; others take all the budget allows.
    /// </summary>
    private static int ChunkLength(Sequence s, int budget)
    {
        var count = Math.Min(s.RemainingTokens, budget);
        return s.PromptLogprobs is null ? count : Math.Min(count, MaxPromptLogitsRows);
    }

    /// <summary>
    /// Prompt positions whose logits one step returns for prompt logprobs: each row is a vocabulary of floats
    /// (Qwen3: 151,936 × 4 B ≈ 0.6 MB), so 512 rows ≈ 311 MB on the device and as much copied back, whatever
    /// max_batched_tokens is.
    /// </summary>
    internal const int MaxPromptLogitsRows = 512;

    /// <summary>
    /// Free blocks that must remain after admitting a sequence while others run: one per running
    /// sequence (itself included), at most an eighth of the pool. Admitted into a pool left exactly full, it would
    /// be the newest and the first victim of the next decode crossing a block boundary, often before its first
    /// token, so its prefill (or, after a preemption, its whole history) would be recomputed for nothing. When
    /// nothing runs it is admitted whenever it fits, so the head of the queue never waits for ever.
    /// </summary>
    private int ReservedBlocks() =>
        _running.Count > 0 ? Math.Min(_running.Count + 1, Blocks.BlockCount / 8) : 0;

    private void Preempt(Sequence sequence)
    {
        _running.Remove(sequence);
        Blocks.Free(sequence);
        _waiting.AddFirst(sequence);
    }

    /// <summary>
    /// n &gt; 1 siblings (the same prompt submitted together): while a running sequence is still computing the
    /// next block <paramref name="sequence"/> would need, wait for it, so that block is then a cache hit
    /// instead of being computed twice.
    /// </summary>
    private bool WaitsForSibling(Sequence sequence)
    {
        if (!_options.PrefixCaching || sequence.SkipsPrefixCache) return false;
        var k = Blocks.CachedPrefixTokens(sequence) / Blocks.BlockSize;
        if (k >= (sequence.Tokens.Count - 1) / Blocks.BlockSize) return false;
        var hash = Blocks.HashOf(sequence, k);
        foreach (var r in _running)
        {
            if (r.HashedBlocks <= k && r.BlockTable.Count > k && (k + 1) * Blocks.BlockSize <= r.Tokens.Count
                && r.AdapterId == sequence.AdapterId && Blocks.HashOf(r, k) == hash)
                return true;
        }
        return false;
    }
}

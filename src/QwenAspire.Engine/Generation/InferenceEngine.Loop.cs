using System.Diagnostics;
using Microsoft.Extensions.Logging;
using QwenAspire.Engine.Model;

namespace QwenAspire.Engine.Generation;

// The engine thread: everything below runs on it alone, so the scheduler, sampler and runner need no locks.
public sealed partial class InferenceEngine
{
    private void RunLoop()
    {
        try
        {
            while (true)
            {
                Drain();
                RunAdapterCommands();
                if (_shutdownDeadline.IsCancellationRequested) AbortAll();
                ReapAborted();
                var step = _scheduler.Schedule();
                PublishCounts();
                if (step is null)
                {
                    if (!WaitForWork()) break;
                    continue;
                }
                try
                {
                    RunStep(step);
                }
                catch (Exception ex)
                {
                    // A bug outside the runner call must not kill the loop: fail this step's sequences only.
                    _logger.LogError(ex, "Engine step failed unexpectedly");
                    foreach (var c in step.Chunks) Fail(c.Sequence, ex);
                }
            }
        }
        catch (Exception ex)
        {
            _logger.LogCritical(ex, "Engine loop crashed; failing all requests");
            foreach (var s in _scheduler.RemoveWhere(static _ => true)) Fail(s, ex, removed: true);
        }
        finally
        {
            _running = 0;
            _waiting = 0;
            ShutDownAdapterCommands();
            _loopExited.TrySetResult();
        }
    }

    /// <summary>Blocks the engine thread until a request or adapter command arrives; false once the engine is disposed and drained.</summary>
    private bool WaitForWork()
    {
        var requests = _incoming.Reader.WaitToReadAsync().AsTask();
        var commands = _commands.Reader.WaitToReadAsync().AsTask();
        Task.WaitAny(requests, commands);
        return !requests.IsCompleted || requests.Result || commands.IsCompletedSuccessfully && commands.Result;
    }

    private void Drain()
    {
        while (_incoming.Reader.TryRead(out var s))
        {
            _active.Add(s.Sequence.Id, s);
            _scheduler.Add(s.Sequence);
        }
    }

    private void PublishCounts()
    {
        _running = _scheduler.RunningCount;
        _waiting = _scheduler.WaitingCount;
    }

    private void ReapAborted()
    {
        foreach (var s in _scheduler.RemoveWhere(s => _active[s.Id].AbortRequested)) Abort(_active[s.Id]);
    }

    /// <summary>Shutdown deadline passed: everything still queued or running ends with <see cref="FinishReason.Abort"/>.</summary>
    private void AbortAll()
    {
        foreach (var s in _scheduler.RemoveWhere(static _ => true)) Abort(_active[s.Id]);
    }

    /// <summary>Ends an already removed sequence with an abort event.</summary>
    private void Abort(ActiveSequence s)
    {
        Retire(s);
        s.Emit(new GenerationOutput
        {
            Finish = FinishReason.Abort,
            PromptTokens = s.Sequence.PromptLength,
            CompletionTokens = s.Sequence.CompletionLength,
        });
        s.Complete();
        RecordFinish(s, "abort");
    }

    private void RunStep(ScheduledStep step)
    {
        foreach (var s in step.Admitted)
        {
            ReleaseQueuePlace(_active[s.Id]);
            _metrics?.RequestAdmitted(ModelOf(_active[s.Id]), s.PromptLength);
        }
        foreach (var s in step.Rejected)
        {
            // Unreachable through GenerateAsync (prompts are checked and growth is capped at the pool), kept as a clear refusal.
            Fail(s, new ContextLengthExceededException(s.Tokens.Count, _scheduler.CapacityTokens,
                $"The sequence has {s.Tokens.Count} tokens ({_scheduler.Blocks.BlocksFor(s.Tokens.Count)} KV blocks) but the KV cache holds " +
                $"{_scheduler.CapacityTokens} tokens in all ({_scheduler.Blocks.BlockCount} blocks of {_scheduler.Blocks.BlockSize})."),
                removed: true);
        }
        if (step.Preempted.Count > 0)
        {
            Interlocked.Add(ref _preemptions, step.Preempted.Count);
            _logger.LogDebug("Preempted {Count} sequence(s) to free KV blocks", step.Preempted.Count);
        }
        if (step.Batch is not { } batch) return;
        _metrics?.StepRan(batch.SequenceCount, batch.TokenCount);

        ReadOnlySpan<float> logits;
        try
        {
            logits = Execute(batch);
        }
        catch (Exception ex) when (step.Chunks.Count > 1)
        {
            // One bad sequence must not cost the others their work: run each alone to find who fails.
            _logger.LogError(ex, "Model runner failed on a step of {Sequences} sequence(s), {Tokens} token(s); retrying them one by one", batch.SequenceCount, batch.TokenCount);
            foreach (var c in step.Chunks) RunAlone(c);
            return;
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Model runner failed on a step of {Tokens} token(s) of request {RequestId}", batch.TokenCount, _active[step.Chunks[0].Sequence.Id].Request.RequestId);
            Fail(step.Chunks[0].Sequence, ex);
            return;
        }
        Complete(step.Chunks, logits);
    }

    private ReadOnlySpan<float> Execute(StepBatch batch)
    {
        var logits = _runner.Execute(batch);
        if (logits.Length != batch.LogitsRows.Length * _runner.VocabSize)
            throw new InvalidOperationException($"The model runner returned {logits.Length} logits for {batch.LogitsRows.Length} row(s) of {_runner.VocabSize}.");
        return logits;
    }

    private void RunAlone(ScheduledChunk chunk)
    {
        List<ScheduledChunk> alone = [chunk with { LogitsIndex = -1 }];
        ReadOnlySpan<float> logits;
        try
        {
            // Slots it had written before the failure get the same values again.
            logits = Execute(StepBatchBuilder.Build(alone, _scheduler.Blocks.BlockSize));
        }
        catch (Exception ex)
        {
            Fail(chunk.Sequence, ex);
            return;
        }
        Complete(alone, logits);
    }

    /// <summary>The runner computed <paramref name="chunks"/>: advance them, then sample the ones whose chunk reached their end.</summary>
    private void Complete(IReadOnlyList<ScheduledChunk> chunks, ReadOnlySpan<float> logits)
    {
        _scheduler.Postprocess(chunks);
        var vocab = _runner.VocabSize;
        if (_row.Length != vocab) _row = new float[vocab];
        foreach (var c in chunks)
        {
            if (!c.Samples && c.PromptLogitsIndex < 0) continue;
            var s = _active[c.Sequence.Id];
            if (s.AbortRequested) continue; // reaped before the next step
            try
            {
                if (c.PromptLogitsIndex >= 0) ScorePrompt(c, logits);
                if (!c.Samples) continue;
                if (c.Sequence.PromptLogprobs is not null || s.Request.Sampling.MaxTokens == 0)
                {
                    EndPrompt(s);
                    if (s.Retired) continue; // max_tokens 0: that was all
                }
                // The sampler edits its input (logits processors): sample a copy, not the runner's buffer.
                logits.Slice(c.LogitsIndex * vocab, vocab).CopyTo(_row);
                Advance(s);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Sampling failed for request {RequestId}", s.Request.RequestId);
                Fail(c.Sequence, ex);
            }
        }
    }

    /// <summary>Samples the next token from <see cref="_row"/>, applies stop rules and streams the event.</summary>
    private void Advance(ActiveSequence s)
    {
        var seq = s.Sequence;
        var sample = _sampler.Sample(_row, s.Request.Sampling, s.Processors, s.Rng);
        seq.Tokens.Add(sample.TokenId);
        s.Processors.OnGenerated(sample.TokenId);
        var outcome = s.Tracker.OnToken(sample.TokenId, seq.Tokens.Count, seq.CompletionLength);

        var now = Stopwatch.GetTimestamp();
        if (_metrics is not null)
        {
            var first = s.LastTokenAt == 0;
            _metrics.TokenGenerated(ModelOf(s),
                first ? Stopwatch.GetElapsedTime(s.SubmittedAt, now).TotalSeconds : null,
                first ? null : Stopwatch.GetElapsedTime(s.LastTokenAt, now).TotalSeconds);
        }
        s.LastTokenAt = now;

        s.Emit(new GenerationOutput
        {
            TokenId = sample.TokenId,
            TextDelta = outcome.TextDelta,
            Logprob = sample.Logprob,
            TopLogprobs = sample.TopLogprobs,
            Finish = outcome.Finish,
            StopReason = outcome.StopReason,
            PromptTokens = seq.PromptLength,
            CompletionTokens = seq.CompletionLength,
        });
        if (outcome.Finish is { } finish)
        {
            _scheduler.Finish(seq); // its blocks go back now (full ones stay in the prefix cache)
            Retire(s);
            s.Complete();
            RecordFinish(s, finish == FinishReason.Stop ? "stop" : "length");
        }
    }

    /// <param name="removed">Already out of the scheduler (its blocks freed).</param>
    private void Fail(Sequence sequence, Exception ex, bool removed = false)
    {
        if (!_active.TryGetValue(sequence.Id, out var s)) return; // already ended
        if (!removed) _scheduler.Finish(sequence);
        Retire(s);
        s.Complete(ex as InferenceFailedException ?? new InferenceFailedException(s.Request.RequestId, ex));
        RecordFinish(s, "error");
    }

    /// <summary>The request is done: forget it, give back its queue place if it never ran, and release its adapter.</summary>
    private void Retire(ActiveSequence s)
    {
        if (s.Retired) return;
        s.Retired = true;
        _active.Remove(s.Sequence.Id);
        ReleaseQueuePlace(s);
        if (s.AdapterEntry is { } adapter) _adapters.Release(adapter);
    }

    private void RecordFinish(ActiveSequence s, string reason) =>
        _metrics?.RequestFinished(ModelOf(s), reason, Stopwatch.GetElapsedTime(s.SubmittedAt).TotalSeconds);

    private string ModelOf(ActiveSequence s) => s.Adapter ?? _options.ModelName;
}

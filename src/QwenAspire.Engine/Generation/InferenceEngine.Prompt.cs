using QwenAspire.Engine.Sampling;

namespace QwenAspire.Engine.Generation;

// Engine thread: what happens when a prompt has been computed, before (or instead of) the first sampled token.
public sealed partial class InferenceEngine
{
    /// <summary>Prompt logprobs of the chunk's positions: position p's logits give prompt token p + 1's logprob (and the top N).</summary>
    private void ScorePrompt(ScheduledChunk c, ReadOnlySpan<float> logits)
    {
        var seq = c.Sequence;
        var target = seq.PromptLogprobs!;
        var n = seq.Request.Sampling.PromptLogprobs ?? 0;
        var vocab = _runner.VocabSize;
        for (var i = 0; i < c.PromptLogitsCount; i++)
        {
            var p = c.Start + i;
            // Overwritten, not appended: a sequence preempted mid-prompt recomputes the same positions.
            // _row is only scratch here (the sampling row is copied into it afterwards).
            target[p + 1] = Logprobs.Of(logits.Slice((c.PromptLogitsIndex + i) * vocab, vocab), seq.Tokens[p + 1], n, _row);
        }
    }

    /// <summary>
    /// The prompt is computed: its logprobs (if asked for) go out as one event, before the first token. With max_tokens 0
    /// (scoring a prompt) that event is the last: the sequence ends with <see cref="FinishReason.Length"/>, nothing sampled.
    /// </summary>
    private void EndPrompt(ActiveSequence s)
    {
        var seq = s.Sequence;
        var prompt = seq.PromptLogprobs;
        seq.PromptLogprobs = null; // delivered: a later recompute (preemption) may use the prefix cache again
        var done = s.Request.Sampling.MaxTokens == 0;
        if (prompt is null && !done) return;
        s.Emit(new GenerationOutput
        {
            PromptLogprobs = prompt,
            Finish = done ? FinishReason.Length : null,
            PromptTokens = seq.PromptLength,
            CompletionTokens = 0,
        });
        if (!done) return;
        _scheduler.Finish(seq); // its blocks go back now (full ones stay in the prefix cache)
        Retire(s);
        s.Complete();
        RecordFinish(s, "length");
    }
}

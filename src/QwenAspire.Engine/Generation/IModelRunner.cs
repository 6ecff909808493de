namespace QwenAspire.Engine.Generation;

/// <summary>
/// The only code that touches the model (torch) from the engine loop. It keeps each sequence's KV cache
/// keyed by <see cref="Sequence.Id"/>; the loop tells it when a sequence is gone.
/// </summary>
public interface IModelRunner : IDisposable
{
    int VocabSize { get; }
    /// <summary>Context length (max_position_embeddings or the configured cap).</summary>
    int MaxContextLength { get; }
    /// <summary>LoRA adapter names this runner can apply (empty: base only).</summary>
    IReadOnlyCollection<string> Adapters { get; }

    /// <summary>
    /// One forward step for every sequence in the batch (all share one adapter): feeds each sequence's
    /// tokens from <see cref="Sequence.CachedTokens"/> to its end, appends them to its KV cache, advances
    /// <see cref="Sequence.CachedTokens"/>, and writes the last position's logits (length
    /// <see cref="VocabSize"/>) into <see cref="Sequence.Logits"/>.
    /// </summary>
    void Step(IReadOnlyList<Sequence> batch);

    /// <summary>Frees a finished or aborted sequence's KV cache.</summary>
    void Release(Sequence sequence);
}

namespace QwenAspire.Engine.Model;

/// <summary>
/// The only code that touches the model (torch) from the engine loop. The runner owns the paged KV pool
/// (allocated once, <see cref="KvBlockCount"/> blocks of <see cref="KvBlockSize"/> tokens); which block
/// belongs to which sequence is the engine's bookkeeping (<c>BlockManager</c>), handed over in each
/// <see cref="StepBatch"/>. Only the engine thread calls it.
/// </summary>
public interface IModelRunner : IDisposable
{
    int VocabSize { get; }
    /// <summary>Context length (max_position_embeddings or the configured cap).</summary>
    int MaxContextLength { get; }
    /// <summary>Tokens per KV block.</summary>
    int KvBlockSize { get; }
    /// <summary>Blocks in the KV pool.</summary>
    int KvBlockCount { get; }
    /// <summary>Adapters loaded with the model (slot 0 is the base model, or the merged adapter).</summary>
    IReadOnlyList<RunnerAdapter> Adapters { get; }
    /// <summary>False when an adapter is merged into the weights: slot 0 is then that adapter, not the base model.</summary>
    bool ServesBaseModel { get; }

    /// <summary>
    /// ONE forward over every token of <paramref name="step"/>: writes each token's K/V into its slot, attends
    /// over each sequence's blocks, applies each sequence's adapter, and returns the logits of
    /// <see cref="StepBatch.LogitsRows"/> as a (R × <see cref="VocabSize"/>) row-major span that stays valid
    /// until the next call.
    /// </summary>
    ReadOnlySpan<float> Execute(StepBatch step);

    /// <summary>Loads a PEFT adapter folder unmerged and returns its slot (never 0, never reused while loaded).</summary>
    /// <exception cref="Model.ModelFormatException">The folder is not a PEFT LoRA adapter that fits this model (message names the problem).</exception>
    int LoadAdapter(string name, string folder);

    /// <summary>Frees the adapter in <paramref name="slot"/>; the engine calls it only once no sequence uses it.</summary>
    void UnloadAdapter(int slot);
}

/// <summary>An adapter the runner holds: served name and slot.</summary>
public sealed record RunnerAdapter(string Name, int Slot);

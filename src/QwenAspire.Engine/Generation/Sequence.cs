using QwenAspire.Engine.Sampling;

namespace QwenAspire.Engine.Generation;

/// <summary>
/// Plain bookkeeping for one generating sequence (no tensors): its tokens so far, which KV blocks hold them
/// (<see cref="BlockTable"/>, owned by the <see cref="BlockManager"/>) and how many of them are computed.
/// </summary>
public sealed class Sequence
{
    private static long s_nextId;

    /// <param name="adapterSlot">The runner's adapter slot (0: base model or merged adapter).</param>
    /// <param name="adapterId">Unique per adapter load (base: 0), so a reloaded adapter never meets its old KV blocks.</param>
    public Sequence(GenerationRequest request, int adapterSlot = 0, long adapterId = 0)
    {
        Request = request;
        Tokens = [.. request.PromptTokens];
        PromptLength = request.PromptTokens.Count;
        AdapterSlot = adapterSlot;
        AdapterId = adapterId;
        if (request.Sampling.PromptLogprobs is not null) PromptLogprobs = new PositionLogprobs?[PromptLength];
    }

    public long Id { get; } = Interlocked.Increment(ref s_nextId);
    public GenerationRequest Request { get; }
    public string? Adapter => Request.Adapter;
    public int AdapterSlot { get; }
    public long AdapterId { get; }
    /// <summary>Prompt followed by generated tokens.</summary>
    public List<int> Tokens { get; }
    public int PromptLength { get; }
    public int CompletionLength => Tokens.Count - PromptLength;
    /// <summary>Leading tokens whose K/V sits in <see cref="BlockTable"/> (prefix-cache hits included).</summary>
    public int ComputedTokens { get; internal set; }
    /// <summary>Tokens still to run through the model: the prompt (or, after preemption, everything) then one per decode step.</summary>
    public int RemainingTokens => Tokens.Count - ComputedTokens;
    /// <summary>KV block ids in position order (block i holds positions [i * BlockSize, (i + 1) * BlockSize)).</summary>
    public List<int> BlockTable { get; } = [];

    /// <summary>Leading blocks of <see cref="BlockTable"/> registered in the prefix cache (hits or computed and hashed).</summary>
    internal int HashedBlocks { get; set; }
    /// <summary>Chained hash of each full block of <see cref="Tokens"/> so far (tokens of a full block never change).</summary>
    internal List<ulong> BlockHashes { get; } = [];
    /// <summary>
    /// Prompt logprobs gathered so far (entry i: token i given tokens before it), while they are still to be delivered;
    /// null when not asked for or once delivered. While set, the sequence's prompt steps return logits for every prompt
    /// position and it takes no prefix-cache hits (a skipped position would have no logits).
    /// </summary>
    internal PositionLogprobs?[]? PromptLogprobs { get; set; }
    /// <summary>Computes every prompt position itself (see <see cref="PromptLogprobs"/>).</summary>
    internal bool SkipsPrefixCache => PromptLogprobs is not null;
    /// <summary>Has left the waiting queue once (a preempted sequence goes back to waiting but stays admitted).</summary>
    internal bool Admitted { get; set; }
}

namespace QwenAspire.Engine.Generation;

/// <summary>Plain bookkeeping for one generating sequence (no tensors): tokens so far and cache progress.</summary>
public sealed class Sequence
{
    private static long s_nextId;

    public Sequence(GenerationRequest request)
    {
        Request = request;
        Tokens = [.. request.PromptTokens];
        PromptLength = request.PromptTokens.Count;
    }

    public long Id { get; } = Interlocked.Increment(ref s_nextId);
    public GenerationRequest Request { get; }
    public string? Adapter => Request.Adapter;
    /// <summary>Prompt followed by generated tokens.</summary>
    public List<int> Tokens { get; }
    public int PromptLength { get; }
    public int CompletionLength => Tokens.Count - PromptLength;
    /// <summary>How many leading tokens already sit in the KV cache.</summary>
    public int CachedTokens { get; set; }
    /// <summary>Logits of the last step (written by the model runner, read by the sampler).</summary>
    public float[]? Logits { get; set; }
}

namespace QwenAspire.Engine.Sampling.LogitsProcessors;

/// <summary>
/// One stage of a sequence's logits pipeline: edits the row before sampling and learns each token chosen.
/// Stateful per sequence (penalty counts, grammar state), so never shared between sequences.
/// </summary>
public interface ILogitsProcessor
{
    /// <summary>Edits <paramref name="logits"/> (one vocabulary row) in place.</summary>
    void Process(Span<float> logits);

    /// <summary>The token that was sampled from the row last given to <see cref="Process"/>.</summary>
    void OnGenerated(int tokenId);
}

/// <summary>
/// Makes a fresh per-sequence processor for one request's constraint (each of n choices gets its own); the
/// compiled part (grammar, vocabulary trie, mask cache) is shared by all of them.
/// </summary>
public interface ILogitsProcessorFactory
{
    ILogitsProcessor Create();
}

/// <summary>A processor that can know, after <see cref="ILogitsProcessor.Process"/>, that exactly one token is possible.</summary>
public interface IForcingProcessor : ILogitsProcessor
{
    /// <summary>The only token the last processed row allows, or -1: the sampler then takes it without drawing.</summary>
    int ForcedToken { get; }
}

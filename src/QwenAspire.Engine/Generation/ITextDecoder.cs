namespace QwenAspire.Engine.Generation;

/// <summary>
/// Incremental detokenizer for one sequence. The engine creates one per request through the
/// <c>Func&lt;SamplingParams, ITextDecoder&gt;</c> given to <see cref="InferenceEngine"/> (so it can honour
/// <see cref="Sampling.SamplingParams.SkipSpecialTokens"/>).
/// </summary>
public interface ITextDecoder
{
    /// <summary>Adds a generated token; returns the newly completed text (whole UTF-8 characters only, may be empty).</summary>
    string Push(int tokenId);
    /// <summary>Returns whatever is still buffered at the end of generation (an incomplete UTF-8 tail becomes U+FFFD).</summary>
    string Flush();
}

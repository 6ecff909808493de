namespace QwenAspire.Text;

/// <summary>
/// Incremental detokenizer for one sequence (<see cref="Tokenization.IncrementalDetokenizer"/> is the one).
/// The engine creates one per request through the factory it is given, so it can honour a request's
/// skip_special_tokens; it lives here, not in the engine, so the engine depends on text and never the reverse.
/// </summary>
public interface ITextDecoder
{
    /// <summary>Adds a generated token; returns the newly completed text (whole UTF-8 characters only, may be empty).</summary>
    string Push(int tokenId);
    /// <summary>Returns whatever is still buffered at the end of generation (an incomplete UTF-8 tail becomes U+FFFD).</summary>
    string Flush();
}

using System.Globalization;
using QwenAspire.Engine.Sampling;
using QwenAspire.Text;

namespace QwenAspire.Engine.Generation;

/// <summary>What one generated token did to the output: text safe to stream now, and whether generation ended.</summary>
public readonly record struct TokenOutcome(string TextDelta, FinishReason? Finish, string? StopReason);

/// <summary>
/// Per-sequence stop handling over the incremental detokenizer: eos ids (unless ignore_eos), stop
/// token ids, stop strings (found in decoded text even when split across tokens; text that could
/// still become a stop string is held back and never streamed; the stop string itself is dropped),
/// max_tokens and the context length (both finish with <see cref="FinishReason.Length"/>, releasing
/// any held-back text). Eos and stop tokens add no text; <see cref="TokenOutcome.StopReason"/> is the
/// stop string, the stop token id in decimal, or null for eos (as vLLM's stop_reason).
/// </summary>
public sealed class CompletionTracker
{
    private readonly SamplingParams _params;
    private readonly IReadOnlySet<int> _eos;
    private readonly ITextDecoder _decoder;
    private readonly int _maxContextLength;
    private string _pending = "";

    public CompletionTracker(SamplingParams sampling, IReadOnlySet<int> eosTokenIds, ITextDecoder decoder, int maxContextLength)
    {
        _params = sampling ?? throw new ArgumentNullException(nameof(sampling));
        _eos = eosTokenIds ?? throw new ArgumentNullException(nameof(eosTokenIds));
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        _maxContextLength = maxContextLength;
    }

    public bool Finished { get; private set; }

    /// <summary>Records the token just appended; <paramref name="totalTokens"/> and <paramref name="completionTokens"/> include it.</summary>
    public TokenOutcome OnToken(int tokenId, int totalTokens, int completionTokens)
    {
        if (Finished) throw new InvalidOperationException("The sequence already finished.");
        if (!_params.IgnoreEos && _eos.Contains(tokenId)) return Finish(FinishReason.Stop, null);
        if (Contains(_params.StopTokenIds, tokenId))
            return Finish(FinishReason.Stop, tokenId.ToString(CultureInfo.InvariantCulture));

        _pending += _decoder.Push(tokenId);
        var at = StopStrings.FindFirst(_pending, _params.StopStrings, out var stop);
        if (at >= 0)
        {
            Finished = true;
            return new TokenOutcome(_pending[..at], FinishReason.Stop, stop);
        }
        if (completionTokens >= _params.MaxTokens || totalTokens >= _maxContextLength)
            return Finish(FinishReason.Length, null);

        var hold = StopStrings.HoldbackLength(_pending, _params.StopStrings);
        var delta = _pending[..^hold];
        _pending = _pending[^hold..];
        return new TokenOutcome(delta, null, null);
    }

    /// <summary>Releases held-back and buffered text; a stop string completed by the flush still cuts it.</summary>
    private TokenOutcome Finish(FinishReason reason, string? stopReason)
    {
        Finished = true;
        var text = _pending + _decoder.Flush();
        _pending = "";
        var at = StopStrings.FindFirst(text, _params.StopStrings, out var stop);
        return at >= 0 ? new TokenOutcome(text[..at], FinishReason.Stop, stop) : new TokenOutcome(text, reason, stopReason);
    }

    private static bool Contains(IReadOnlyList<int> ids, int id)
    {
        for (var i = 0; i < ids.Count; i++) if (ids[i] == id) return true;
        return false;
    }
}

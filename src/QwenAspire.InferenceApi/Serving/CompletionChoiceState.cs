using System.Text;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>One /v1/completions choice as it is generated (text, token ids, logprobs in the legacy shape).</summary>
/// <param name="echo">The prompt text when echo is on, else "".</param>
/// <param name="promptIds">The prompt's token ids: with echo and logprobs, the engine's prompt logprobs are theirs.</param>
public sealed class CompletionChoiceState(int index, int promptIndex, string echo, IReadOnlyList<int> promptIds, IPromptProcessor prompt)
{
    private readonly StringBuilder _text = new(echo);
    private List<string>? _tokens;
    private List<float?>? _tokenLogprobs;
    private List<Dictionary<string, float>?>? _top;
    private List<int>? _offsets;

    public int Index { get; } = index;
    public int PromptIndex { get; } = promptIndex;
    /// <summary>The echoed prompt ("" without echo).</summary>
    public string Echo { get; } = echo;
    public List<int> TokenIds { get; } = [];
    public FinishReason? Finish { get; private set; }
    public string? StopReason { get; private set; }
    public int CompletionTokens { get; private set; }

    public string? FinishReasonText => Finish switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        _ => null,
    };

    public string Text => _text.ToString();

    /// <summary>Takes one engine event; returns the logprobs it adds (streaming: the prompt's, or this step's) or null.</summary>
    public CompletionLogprobs? Apply(GenerationOutput output)
    {
        if (output.TokenId is { } id) TokenIds.Add(id);
        CompletionTokens = Math.Max(CompletionTokens, output.CompletionTokens);
        CompletionLogprobs? step = null;
        if (output.PromptLogprobs is { } promptLogprobs) step = ApplyPrompt(promptLogprobs);
        if (output.Logprob is { } lp) step = Add(lp.TokenId, lp.Logprob, output.TopLogprobs, _text.Length);
        _text.Append(output.TextDelta);
        if (output.Finish is { } finish)
        {
            Finish = finish;
            StopReason = output.StopReason;
        }
        return step;
    }

    public CompletionLogprobs? Logprobs => _tokens is null ? null : new CompletionLogprobs(_tokens, _tokenLogprobs!, _top!, _offsets!);

    /// <summary>
    /// The echoed prompt's entries, before any generated token's: each prompt token decoded alone, at the offset where the
    /// tokens before it end (vLLM's rule), so tokens concatenate to the echoed text; the first has no logprob.
    /// </summary>
    private CompletionLogprobs ApplyPrompt(IReadOnlyList<PositionLogprobs?> logprobs)
    {
        if (logprobs.Count != promptIds.Count)
            throw new InvalidOperationException($"The engine returned {logprobs.Count} prompt logprobs for {promptIds.Count} prompt tokens.");
        int first = _tokens?.Count ?? 0, offset = 0;
        for (int i = 0; i < promptIds.Count; i++)
        {
            var entry = logprobs[i];
            offset += Add(promptIds[i], entry?.Chosen.Logprob, entry?.Top, offset).Tokens[0].Length;
        }
        int count = _tokens!.Count - first;
        return new CompletionLogprobs(_tokens.GetRange(first, count), _tokenLogprobs!.GetRange(first, count),
            _top!.GetRange(first, count), _offsets!.GetRange(first, count));
    }

    private CompletionLogprobs Add(int tokenId, float? logprob, IReadOnlyList<TokenLogprob>? top, int offset)
    {
        string token = prompt.Decode([tokenId], skipSpecialTokens: false);
        var alternatives = top?.GroupBy(t => prompt.Decode([t.TokenId], false)).ToDictionary(g => g.Key, g => g.Max(t => t.Logprob));
        (_tokens ??= []).Add(token);
        (_tokenLogprobs ??= []).Add(logprob);
        (_top ??= []).Add(alternatives);
        (_offsets ??= []).Add(offset);
        return new CompletionLogprobs([token], [logprob], [alternatives], [offset]);
    }
}

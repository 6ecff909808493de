using System.Text;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>One /v1/completions choice as it is generated (text, token ids, logprobs in the legacy shape).</summary>
public sealed class CompletionChoiceState(int index, int promptIndex, string echo, IPromptProcessor prompt)
{
    private readonly StringBuilder _text = new(echo);
    private List<string>? _tokens;
    private List<float>? _tokenLogprobs;
    private List<Dictionary<string, float>?>? _top;
    private List<int>? _offsets;

    public int Index { get; } = index;
    public int PromptIndex { get; } = promptIndex;
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

    /// <summary>Takes one engine event; returns the logprobs of this step (streaming) or null.</summary>
    public CompletionLogprobs? Apply(GenerationOutput output)
    {
        if (output.TokenId is { } id) TokenIds.Add(id);
        CompletionTokens = Math.Max(CompletionTokens, output.CompletionTokens);
        CompletionLogprobs? step = null;
        if (output.Logprob is { } lp)
        {
            string token = prompt.Decode([lp.TokenId], skipSpecialTokens: false);
            var top = output.TopLogprobs?.GroupBy(t => prompt.Decode([t.TokenId], false))
                .ToDictionary(g => g.Key, g => g.Max(t => t.Logprob));
            (_tokens ??= []).Add(token);
            (_tokenLogprobs ??= []).Add(lp.Logprob);
            (_top ??= []).Add(top);
            (_offsets ??= []).Add(_text.Length);
            step = new CompletionLogprobs([token], [lp.Logprob], [top], [_text.Length]);
        }
        _text.Append(output.TextDelta);
        if (output.Finish is { } finish)
        {
            Finish = finish;
            StopReason = output.StopReason;
        }
        return step;
    }

    public CompletionLogprobs? Logprobs => _tokens is null ? null : new CompletionLogprobs(_tokens, _tokenLogprobs!, _top!, _offsets!);
}

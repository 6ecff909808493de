using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// One chat choice as it is generated: its token ids, logprobs and the text split into reasoning,
/// content and tool calls. Streaming turns each step into deltas; non-streaming reads the totals.
/// </summary>
public sealed class ChatChoiceState(int index, bool parseTools, IPromptProcessor prompt)
{
    private readonly AssistantOutput _output = new(parseTools);
    private readonly System.Text.StringBuilder _reasoningText = new();
    private readonly System.Text.StringBuilder _contentText = new();
    private readonly List<ToolCall> _toolCalls = [];

    public int Index { get; } = index;
    public List<int> TokenIds { get; } = [];
    public List<ChatTokenLogprob>? Logprobs { get; private set; }
    public FinishReason? Finish { get; private set; }
    public string? StopReason { get; private set; }
    public int CompletionTokens { get; private set; }

    /// <summary>finish_reason on the wire: a stop that produced tool calls is reported as "tool_calls".</summary>
    public string? FinishReasonText => Finish switch
    {
        FinishReason.Stop when _toolCalls.Count > 0 => "tool_calls",
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        _ => null,
    };

    /// <summary>Takes one engine event; returns the deltas to stream for it (possibly none).</summary>
    public IReadOnlyList<ChatDelta> Apply(GenerationOutput output)
    {
        if (output.TokenId is { } id) TokenIds.Add(id);
        if (output.Logprob is { } lp)
            (Logprobs ??= []).Add(ToLogprob(lp, output.TopLogprobs));
        CompletionTokens = Math.Max(CompletionTokens, output.CompletionTokens);

        var deltas = new List<ChatDelta>();
        AddDeltas(_output.Feed(output.TextDelta), deltas);
        if (output.Finish is { } finish)
        {
            AddDeltas(_output.Flush(), deltas);
            Finish = finish;
            StopReason = output.StopReason;
        }
        return deltas;
    }

    public ChatResponseMessage ToMessage()
    {
        string content = _contentText.ToString();
        if (_toolCalls.Count > 0) content = content.Trim();
        return new ChatResponseMessage
        {
            Content = _toolCalls.Count > 0 && content.Length == 0 ? null : content,
            ReasoningContent = _reasoningText.Length == 0 ? null : _reasoningText.ToString(),
            ToolCalls = _toolCalls.Count == 0 ? null : _toolCalls,
        };
    }

    private void AddDeltas(IReadOnlyList<AssistantDelta> split, List<ChatDelta> deltas)
    {
        foreach (var d in split)
        {
            if (d.Reasoning is { } reasoning)
            {
                _reasoningText.Append(reasoning);
                deltas.Add(new ChatDelta { ReasoningContent = reasoning });
            }
            else if (d.Content is { } content)
            {
                AddContent([content], deltas);
            }
        }
    }

    private void AddContent(IReadOnlyList<ToolCallStreamParser.Event> events, List<ChatDelta> deltas)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case ToolCallStreamParser.Content c:
                    _contentText.Append(c.Text);
                    deltas.Add(new ChatDelta { Content = c.Text });
                    break;
                // Id, type and name first, then the arguments as they are generated, as OpenAI streams them (Dify appends by index).
                case ToolCallStreamParser.CallStarted start:
                    deltas.Add(new ChatDelta
                    {
                        ToolCalls = [new ToolCallDelta { Index = start.Index, Id = start.Id, Type = "function",
                        Function = new FunctionCallDelta { Name = start.Name, Arguments = "" } }]
                    });
                    break;
                case ToolCallStreamParser.ArgumentsDelta args:
                    deltas.Add(new ChatDelta { ToolCalls = [new ToolCallDelta { Index = args.Index, Function = new FunctionCallDelta { Arguments = args.Fragment } }] });
                    break;
                case ToolCallStreamParser.CallEnded end:
                    _toolCalls.Add(new ToolCall(end.Id, new FunctionCall(end.Name, end.Arguments)));
                    break;
            }
        }
    }

    private ChatTokenLogprob ToLogprob(TokenLogprob chosen, IReadOnlyList<TokenLogprob>? top)
    {
        string text = prompt.Decode([chosen.TokenId], skipSpecialTokens: false);
        return new ChatTokenLogprob(text, chosen.Logprob, Bytes(text),
            top?.Select(t => { string s = prompt.Decode([t.TokenId], false); return new ChatTopLogprob(s, t.Logprob, Bytes(s)); }).ToList() ?? []);
    }

    private static int[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();
}

using System.Text;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// One Responses generation as it runs: the engine's text goes through <see cref="AssistantOutput"/> and becomes
/// output items (reasoning, message, function_call), each opened, filled and closed in order. Every step
/// returns the stream events it causes (added/delta/done), so streaming writes them and non-streaming only
/// reads <see cref="Output"/> at the end; both see the same items.
/// </summary>
public sealed class ResponsesOutputState(bool parseTools)
{
    private readonly AssistantOutput _output = new(parseTools);
    private readonly StringBuilder _text = new();
    private ResponseOutputItem? _open;

    public List<ResponseOutputItem> Output { get; } = [];
    public FinishReason? Finish { get; private set; }
    public int CompletionTokens { get; private set; }
    public string ReasoningText { get; private set; } = "";

    /// <summary>completed, or incomplete when max_output_tokens (or the context) ended it.</summary>
    public string Status => Finish == FinishReason.Length ? "incomplete" : "completed";

    /// <summary>OpenAI's finish reasons for telemetry: a stop with calls is tool_calls.</summary>
    public string? FinishReasonText => Finish switch
    {
        FinishReason.Stop when Output.Any(i => i is ResponseFunctionCallItem) => "tool_calls",
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        _ => null,
    };

    public IReadOnlyList<ResponseStreamEvent> Apply(GenerationOutput output)
    {
        CompletionTokens = Math.Max(CompletionTokens, output.CompletionTokens);
        var events = new List<ResponseStreamEvent>();
        foreach (var delta in _output.Feed(output.TextDelta)) Add(delta, events);
        if (output.Finish is { } finish)
        {
            foreach (var delta in _output.Flush()) Add(delta, events);
            Finish = finish;
            Close(events, finish == FinishReason.Length ? "incomplete" : "completed");
        }
        return events;
    }

    private void Add(AssistantDelta delta, List<ResponseStreamEvent> events)
    {
        if (delta.Reasoning is { } reasoning)
        {
            if (_open is not ResponseReasoningItem) Open(new ResponseReasoningItem { Id = NewId("rs_") }, events);
            _text.Append(reasoning);
            events.Add(new ResponseStreamEvent(ResponseStreamEvent.ReasoningTextDelta)
            { ItemId = _open!.Id, OutputIndex = Output.Count - 1, ContentIndex = 0, Delta = reasoning });
            return;
        }
        switch (delta.Content)
        {
            case ToolCallStreamParser.Content content:
                if (_open is not ResponseMessageItem)
                {
                    Open(new ResponseMessageItem { Id = NewId("msg_") }, events);
                    events.Add(new ResponseStreamEvent(ResponseStreamEvent.ContentPartAdded)
                    { ItemId = _open!.Id, OutputIndex = Output.Count - 1, ContentIndex = 0, Part = ResponseTextPart.OutputText("") });
                }
                _text.Append(content.Text);
                events.Add(new ResponseStreamEvent(ResponseStreamEvent.OutputTextDelta)
                { ItemId = _open!.Id, OutputIndex = Output.Count - 1, ContentIndex = 0, Delta = content.Text, Logprobs = [] });
                break;
            case ToolCallStreamParser.CallStarted started:
                Open(new ResponseFunctionCallItem { Id = NewId("fc_"), CallId = started.Id, Name = started.Name }, events);
                break;
            case ToolCallStreamParser.ArgumentsDelta piece when _open is ResponseFunctionCallItem call:
                call.Arguments += piece.Fragment;
                events.Add(new ResponseStreamEvent(ResponseStreamEvent.FunctionCallArgumentsDelta)
                { ItemId = call.Id, OutputIndex = Output.Count - 1, Delta = piece.Fragment });
                break;
            case ToolCallStreamParser.CallEnded end:
                // A block read whole (keys in another order, string-encoded arguments) ends without a start: its
                // arguments come as one delta. A call cut off (max_output_tokens) closes incomplete.
                if (_open is not ResponseFunctionCallItem open || open.CallId != end.Id)
                {
                    open = new ResponseFunctionCallItem { Id = NewId("fc_"), CallId = end.Id, Name = end.Name };
                    Open(open, events);
                    events.Add(new ResponseStreamEvent(ResponseStreamEvent.FunctionCallArgumentsDelta)
                    { ItemId = open.Id, OutputIndex = Output.Count - 1, Delta = end.Arguments });
                }
                open.Arguments = end.Arguments;
                Close(events, end.Complete ? "completed" : "incomplete");
                break;
        }
    }

    private void Open(ResponseOutputItem item, List<ResponseStreamEvent> events)
    {
        Close(events, "completed");
        _open = item;
        Output.Add(item);
        events.Add(new ResponseStreamEvent(ResponseStreamEvent.OutputItemAdded) { OutputIndex = Output.Count - 1, Item = item.Snapshot() });
    }

    private void Close(List<ResponseStreamEvent> events, string status)
    {
        if (_open is not { } item) return;
        int index = Output.Count - 1;
        string text = _text.ToString();
        switch (item)
        {
            case ResponseReasoningItem reasoning:
                ReasoningText += text;
                reasoning.Content.Add(new ResponseTextPart("reasoning_text", text));
                reasoning.Summary.Add(new ResponseTextPart("summary_text", text));
                events.Add(new ResponseStreamEvent(ResponseStreamEvent.ReasoningTextDone) { ItemId = item.Id, OutputIndex = index, ContentIndex = 0, Text = text });
                break;
            case ResponseMessageItem message:
                var part = ResponseTextPart.OutputText(text);
                message.Content.Add(part);
                events.Add(new ResponseStreamEvent(ResponseStreamEvent.OutputTextDone) { ItemId = item.Id, OutputIndex = index, ContentIndex = 0, Text = text, Logprobs = [] });
                events.Add(new ResponseStreamEvent(ResponseStreamEvent.ContentPartDone) { ItemId = item.Id, OutputIndex = index, ContentIndex = 0, Part = part });
                break;
            case ResponseFunctionCallItem call:
                events.Add(new ResponseStreamEvent(ResponseStreamEvent.FunctionCallArgumentsDone)
                { ItemId = item.Id, OutputIndex = index, Name = call.Name, Arguments = call.Arguments });
                break;
        }
        item.Status = status;
        events.Add(new ResponseStreamEvent(ResponseStreamEvent.OutputItemDone) { OutputIndex = index, Item = item.Snapshot() });
        _open = null;
        _text.Clear();
    }

    private static string NewId(string prefix) => prefix + Guid.NewGuid().ToString("N");
}

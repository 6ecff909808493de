namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// One piece of an assistant turn: reasoning text, or an event of the content stream (plain content or a tool
/// call, as <see cref="ToolCallStreamParser"/> reports them).
/// </summary>
public readonly record struct AssistantDelta(string? Reasoning, ToolCallStreamParser.Event? Content);

/// <summary>
/// Parses a generation's text, as the engine streams it, into what an assistant turn consists of, in no front
/// end's wire shape: <c>&lt;think&gt;</c> reasoning (<see cref="ReasoningSplitter"/>), then content and, when
/// tools were offered, <c>&lt;tool_call&gt;</c> blocks (<see cref="ToolCallStreamParser"/>: a call's id and name as soon as they are known, then its arguments as generated). Chat completions turn the
/// deltas into <c>delta</c> chunks; another front end (Responses) into its own events.
/// </summary>
public sealed class AssistantOutput(bool parseTools)
{
    private readonly ReasoningSplitter _reasoning = new();
    private readonly ToolCallStreamParser? _tools = parseTools ? new ToolCallStreamParser() : null;

    /// <summary>The deltas <paramref name="text"/> completes (text that may still become a tag is held back).</summary>
    public IReadOnlyList<AssistantDelta> Feed(string text)
    {
        var deltas = new List<AssistantDelta>();
        Add(_reasoning.Feed(text), deltas);
        return deltas;
    }

    /// <summary>Everything still held back (end of generation).</summary>
    public IReadOnlyList<AssistantDelta> Flush()
    {
        var deltas = new List<AssistantDelta>();
        Add(_reasoning.Flush(), deltas);
        if (_tools is not null)
            foreach (var e in _tools.Flush()) deltas.Add(new AssistantDelta(null, e));
        return deltas;
    }

    private void Add(ReasoningSplitter.Delta split, List<AssistantDelta> deltas)
    {
        if (split.Reasoning.Length > 0) deltas.Add(new AssistantDelta(split.Reasoning, null));
        if (split.Content.Length == 0) return;
        if (_tools is null)
        {
            deltas.Add(new AssistantDelta(null, new ToolCallStreamParser.Content(split.Content)));
            return;
        }
        foreach (var e in _tools.Feed(split.Content)) deltas.Add(new AssistantDelta(null, e));
    }
}

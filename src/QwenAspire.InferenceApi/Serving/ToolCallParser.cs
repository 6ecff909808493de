using System.Text;
using System.Text.Json;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Finds Qwen3's <c>&lt;tool_call&gt;{"name":…,"arguments":…}&lt;/tool_call&gt;</c> blocks in the content stream.
/// Content outside blocks passes through (a possible tag start is held back); a block is released only
/// once closed and valid, so a malformed or unterminated block can still fall back to plain content.
/// Whitespace after a tool call is held until real content follows (Qwen3 separates blocks by newlines).
/// </summary>
public sealed class ToolCallParser
{
    public const string OpenTag = "<tool_call>";
    public const string CloseTag = "</tool_call>";

    private readonly StringBuilder _pending = new();
    private bool _inBlock;
    private int _count;

    public abstract record Event;
    public sealed record ContentEvent(string Text) : Event;
    public sealed record ToolCallEvent(int Index, string Id, string Name, string Arguments) : Event;

    public int ToolCallCount => _count;

    public IReadOnlyList<Event> Feed(string text)
    {
        _pending.Append(text);
        var events = new List<Event>();
        Drain(events, final: false);
        return events;
    }

    public IReadOnlyList<Event> Flush()
    {
        var events = new List<Event>();
        Drain(events, final: true);
        return events;
    }

    /// <summary>Non-streaming: content (null when only whitespace besides tool calls) and the parsed calls.</summary>
    public static (string? Content, IReadOnlyList<ToolCallEvent> Calls) ParseAll(string text)
    {
        var parser = new ToolCallParser();
        var events = parser.Feed(text).Concat(parser.Flush()).ToList();
        var calls = events.OfType<ToolCallEvent>().ToList();
        string content = string.Concat(events.OfType<ContentEvent>().Select(e => e.Text));
        if (calls.Count > 0) content = content.Trim();
        return (calls.Count > 0 && content.Length == 0 ? null : content, calls);
    }

    private void Drain(List<Event> events, bool final)
    {
        while (_pending.Length > 0)
        {
            string buffer = _pending.ToString();
            if (_inBlock)
            {
                int close = buffer.IndexOf(CloseTag, StringComparison.Ordinal);
                if (close < 0)
                {
                    if (final) // unterminated block: give it back as text
                    {
                        events.Add(new ContentEvent(OpenTag + buffer));
                        _pending.Clear();
                    }
                    return;
                }
                string body = buffer[..close];
                _pending.Remove(0, close + CloseTag.Length);
                _inBlock = false;
                if (TryParseCall(body, out var name, out var arguments))
                    events.Add(new ToolCallEvent(_count++, NewCallId(), name, arguments));
                else
                    events.Add(new ContentEvent(OpenTag + body + CloseTag));
                continue;
            }

            int open = buffer.IndexOf(OpenTag, StringComparison.Ordinal);
            if (open >= 0)
            {
                EmitContent(events, buffer[..open], dropIfBlank: true);
                _pending.Remove(0, open + OpenTag.Length);
                _inBlock = true;
                continue;
            }
            int keep = final ? 0 : ReasoningSplitter.PartialSuffixLength(buffer, OpenTag);
            string ready = buffer[..^keep];
            if (!final && _count > 0 && string.IsNullOrWhiteSpace(ready))
                return; // whitespace between calls: wait to see whether real content follows
            EmitContent(events, ready, dropIfBlank: _count > 0);
            _pending.Remove(0, ready.Length);
            return;
        }
    }

    private static void EmitContent(List<Event> events, string text, bool dropIfBlank)
    {
        // Whitespace around calls is formatting, not answer text.
        if (text.Length == 0 || (dropIfBlank && string.IsNullOrWhiteSpace(text))) return;
        events.Add(new ContentEvent(text));
    }

    private static bool TryParseCall(string body, out string name, out string arguments)
    {
        name = arguments = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String
                || string.IsNullOrWhiteSpace(n.GetString()))
                return false;
            name = n.GetString()!;
            arguments = !root.TryGetProperty("arguments", out var a) ? "{}"
                : a.ValueKind == JsonValueKind.String ? a.GetString()!
                : a.ValueKind == JsonValueKind.Object ? a.GetRawText()
                : "";
            return arguments.Length > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];
}

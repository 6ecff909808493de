using System.Text;
using System.Text.Json;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Incremental reader of Qwen3's <c>&lt;tool_call&gt;\n{"name": …, "arguments": {…}}\n&lt;/tool_call&gt;</c> blocks
/// in the content stream, so tool calls stream as OpenAI's do: <see cref="CallStarted"/> (index, id, name)
/// as soon as <c>"arguments":</c> is followed by an object, then <see cref="ArgumentsDelta"/> fragments of that
/// object as they are generated (they concatenate to its exact text), then <see cref="CallEnded"/>.
/// Blocks of another shape (keys in another order, string-encoded or missing arguments) are read whole at
/// <c>&lt;/tool_call&gt;</c>: a call if they parse, else content. A call that
/// has started is never taken back: cut off (max_tokens) or malformed after its start, it ends with the
/// arguments written so far and <see cref="CallEnded.Complete"/> false. Content outside blocks passes through
/// (a possible tag start is held back; whitespace around calls dropped).
/// </summary>
public sealed class ToolCallStreamParser
{
    public const string OpenTag = "<tool_call>";
    public const string CloseTag = "</tool_call>";

    public abstract record Event;
    public sealed record Content(string Text) : Event;
    public sealed record CallStarted(int Index, string Id, string Name) : Event;
    public sealed record ArgumentsDelta(int Index, string Fragment) : Event;
    /// <param name="Complete">The block closed with a whole arguments object (always so under a forced-call grammar).</param>
    public sealed record CallEnded(int Index, string Id, string Name, string Arguments, bool Complete) : Event;

    private enum Mode { Outside, Prefix, Streaming, Whole }

    private readonly StringBuilder _pending = new();
    private readonly StringBuilder _arguments = new();
    private Mode _mode;
    private int _count;
    private string _id = "", _name = "";
    // The arguments object's scanner: nesting depth, inside a string, after a backslash; then the text after it.
    private int _depth;
    private bool _inString, _escaped, _valueDone;
    private readonly StringBuilder _tail = new();

    public int ToolCallCount => _count;

    public IReadOnlyList<Event> Feed(string text)
    {
        _pending.Append(text);
        var events = new List<Event>();
        Drain(events, final: false);
        return events;
    }

    /// <summary>End of output: held text is released, an unterminated started call ends incomplete.</summary>
    public IReadOnlyList<Event> Flush()
    {
        var events = new List<Event>();
        Drain(events, final: true);
        return events;
    }

    private void Drain(List<Event> events, bool final)
    {
        while (true)
        {
            switch (_mode)
            {
                case Mode.Outside:
                    if (!DrainOutside(events, final)) return;
                    break;
                case Mode.Prefix:
                    if (!DrainPrefix(events, final)) return;
                    break;
                case Mode.Streaming:
                    if (!DrainStreaming(events, final)) return;
                    break;
                case Mode.Whole:
                    if (!DrainWhole(events, final)) return;
                    break;
            }
        }
    }

    /// <summary>False when nothing more can be done with the text held.</summary>
    private bool DrainOutside(List<Event> events, bool final)
    {
        if (_pending.Length == 0) return false;
        var buffer = _pending.ToString();
        var open = buffer.IndexOf(OpenTag, StringComparison.Ordinal);
        if (open >= 0)
        {
            EmitContent(events, buffer[..open], dropIfBlank: true);
            _pending.Remove(0, open + OpenTag.Length);
            _mode = Mode.Prefix;
            return true;
        }
        var keep = final ? 0 : ReasoningSplitter.PartialSuffixLength(buffer, OpenTag);
        var ready = buffer[..^keep];
        if (!final && _count > 0 && string.IsNullOrWhiteSpace(ready)) return false; // whitespace between calls: wait and see
        EmitContent(events, ready, dropIfBlank: _count > 0);
        _pending.Remove(0, ready.Length);
        return false;
    }

    private bool DrainPrefix(List<Event> events, bool final)
    {
        var buffer = _pending.ToString();
        switch (MatchPrefix(buffer, out var name, out var valueStart))
        {
            case PrefixMatch.Object:
                _id = NewCallId();
                _name = name;
                events.Add(new CallStarted(_count, _id, _name));
                _pending.Remove(0, valueStart);
                _arguments.Clear();
                _tail.Clear();
                (_depth, _inString, _escaped, _valueDone) = (0, false, false, false);
                _mode = Mode.Streaming;
                return true;
            case PrefixMatch.Other:
                _mode = Mode.Whole;
                return true;
            default: // more text needed, unless the block closes or output ends first
                if (buffer.Contains(CloseTag, StringComparison.Ordinal) || final) { _mode = Mode.Whole; return true; }
                return false;
        }
    }

    private bool DrainStreaming(List<Event> events, bool final)
    {
        var buffer = _pending.ToString();
        var close = buffer.IndexOf(CloseTag, StringComparison.Ordinal);
        var limit = close >= 0 ? close : final ? buffer.Length : buffer.Length - ReasoningSplitter.PartialSuffixLength(buffer, CloseTag);
        var fragment = new StringBuilder();
        for (var i = 0; i < limit; i++)
        {
            var c = buffer[i];
            if (_valueDone) { _tail.Append(c); continue; }
            fragment.Append(c);
            Scan(c);
        }
        _pending.Remove(0, limit);
        if (fragment.Length > 0)
        {
            _arguments.Append(fragment);
            events.Add(new ArgumentsDelta(_count, fragment.ToString()));
        }
        if (close < 0 && !final) return false;
        if (close >= 0) _pending.Remove(0, CloseTag.Length);
        var complete = _valueDone && _tail.ToString().Trim() == "}";
        events.Add(new CallEnded(_count++, _id, _name, _arguments.ToString(), complete));
        _mode = Mode.Outside;
        return close >= 0;
    }

    private void Scan(char c)
    {
        if (_inString)
        {
            if (_escaped) _escaped = false;
            else if (c == '\\') _escaped = true;
            else if (c == '"') _inString = false;
            return;
        }
        switch (c)
        {
            case '"': _inString = true; break;
            case '{' or '[': _depth++; break;
            case '}' or ']':
                if (--_depth == 0) _valueDone = true;
                break;
        }
    }

    /// <summary>A block read whole at its close tag (the shape did not allow streaming).</summary>
    private bool DrainWhole(List<Event> events, bool final)
    {
        var buffer = _pending.ToString();
        var close = buffer.IndexOf(CloseTag, StringComparison.Ordinal);
        if (close < 0)
        {
            if (!final) return false;
            events.Add(new Content(OpenTag + buffer)); // unterminated block: give it back as text
            _pending.Clear();
            _mode = Mode.Outside;
            return false;
        }
        var body = buffer[..close];
        _pending.Remove(0, close + CloseTag.Length);
        _mode = Mode.Outside;
        if (TryParseCall(body, out var name, out var arguments))
        {
            var id = NewCallId();
            events.Add(new CallStarted(_count, id, name));
            events.Add(new ArgumentsDelta(_count, arguments));
            events.Add(new CallEnded(_count++, id, name, arguments, Complete: true));
        }
        else
        {
            events.Add(new Content(OpenTag + body + CloseTag));
        }
        return true;
    }

    private enum PrefixMatch { NeedMore, Object, Other }

    /// <summary>
    /// Matches <c>\s*{\s*"name"\s*:\s*"…"\s*,\s*"arguments"\s*:\s*</c> followed by <c>{</c>; <paramref name="valueStart"/>
    /// is the index of that brace.
    /// </summary>
    private static PrefixMatch MatchPrefix(string s, out string name, out int valueStart)
    {
        name = "";
        valueStart = 0;
        var i = 0;
        bool Ws() { while (i < s.Length && char.IsWhiteSpace(s[i])) i++; return i < s.Length; }
        PrefixMatch? Expect(string literal)
        {
            for (var k = 0; k < literal.Length; k++, i++)
            {
                if (i >= s.Length) return PrefixMatch.NeedMore;
                if (s[i] != literal[k]) return PrefixMatch.Other;
            }
            return null;
        }
        if (!Ws()) return PrefixMatch.NeedMore;
        if (Expect("{") is { } a) return a;
        if (!Ws()) return PrefixMatch.NeedMore;
        if (Expect("\"name\"") is { } b) return b;
        if (!Ws()) return PrefixMatch.NeedMore;
        if (Expect(":") is { } c) return c;
        if (!Ws()) return PrefixMatch.NeedMore;
        if (s[i] != '"') return PrefixMatch.Other;
        var start = i++;
        for (var escaped = false; ; i++)
        {
            if (i >= s.Length) return PrefixMatch.NeedMore;
            if (escaped) escaped = false;
            else if (s[i] == '\\') escaped = true;
            else if (s[i] == '"') break;
        }
        try { name = JsonSerializer.Deserialize<string>(s.AsSpan(start, ++i - start)) ?? ""; }
        catch (JsonException) { return PrefixMatch.Other; }
        if (string.IsNullOrWhiteSpace(name)) return PrefixMatch.Other;
        if (!Ws()) return PrefixMatch.NeedMore;
        if (Expect(",") is { } d) return d;
        if (!Ws()) return PrefixMatch.NeedMore;
        if (Expect("\"arguments\"") is { } e) return e;
        if (!Ws()) return PrefixMatch.NeedMore;
        if (Expect(":") is { } f) return f;
        if (!Ws()) return PrefixMatch.NeedMore;
        valueStart = i;
        return s[i] == '{' ? PrefixMatch.Object : PrefixMatch.Other;
    }

    private static void EmitContent(List<Event> events, string text, bool dropIfBlank)
    {
        if (text.Length == 0 || (dropIfBlank && string.IsNullOrWhiteSpace(text))) return;
        events.Add(new Content(text));
    }

    private static bool TryParseCall(string body, out string name, out string arguments)
    {
        name = arguments = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String
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

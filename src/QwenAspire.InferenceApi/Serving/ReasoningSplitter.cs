using System.Text;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Splits Qwen3's <c>&lt;think&gt;…&lt;/think&gt;</c> off the generated text, token by token: what is inside goes
/// to reasoning, what follows to content. Text that could still become a tag is held back, so a tag split
/// across tokens never leaks. Content after <c>&lt;/think&gt;</c> loses its leading newlines, as the chat template
/// itself does when it re-renders an assistant turn. The same instance serves streaming (many
/// <see cref="Feed"/> calls) and non-streaming (one call, then <see cref="Flush"/>).
/// </summary>
public sealed class ReasoningSplitter
{
    public const string OpenTag = "<think>";
    public const string CloseTag = "</think>";

    private enum State { Start, Thinking, AfterThinking, Content }

    private readonly StringBuilder _pending = new();
    private State _state = State.Start;

    public readonly record struct Delta(string Reasoning, string Content)
    {
        public bool IsEmpty => Reasoning.Length == 0 && Content.Length == 0;
    }

    public Delta Feed(string text)
    {
        _pending.Append(text);
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        Drain(reasoning, content, final: false);
        return new Delta(reasoning.ToString(), content.ToString());
    }

    /// <summary>Releases everything held back (end of generation).</summary>
    public Delta Flush()
    {
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        Drain(reasoning, content, final: true);
        return new Delta(reasoning.ToString(), content.ToString());
    }

    private void Drain(StringBuilder reasoning, StringBuilder content, bool final)
    {
        while (_pending.Length > 0)
        {
            string buffer = _pending.ToString();
            switch (_state)
            {
                case State.Start:
                {
                    string trimmed = buffer.TrimStart();
                    if (trimmed.StartsWith(OpenTag, StringComparison.Ordinal))
                    {
                        _pending.Clear().Append(trimmed[OpenTag.Length..]);
                        _state = State.Thinking;
                        continue;
                    }
                    if (!final && OpenTag.StartsWith(trimmed, StringComparison.Ordinal))
                        return; // still a possible "<think>" (or only whitespace so far)
                    _state = State.Content;
                    continue;
                }
                case State.Thinking:
                {
                    int close = buffer.IndexOf(CloseTag, StringComparison.Ordinal);
                    if (close >= 0)
                    {
                        reasoning.Append(buffer, 0, close);
                        _pending.Clear().Append(buffer[(close + CloseTag.Length)..]);
                        _state = State.AfterThinking;
                        continue;
                    }
                    int keep = final ? 0 : PartialSuffixLength(buffer, CloseTag);
                    reasoning.Append(buffer, 0, buffer.Length - keep);
                    _pending.Remove(0, buffer.Length - keep);
                    return;
                }
                case State.AfterThinking:
                {
                    string trimmed = buffer.TrimStart();
                    if (trimmed.Length == 0)
                    {
                        _pending.Clear();
                        return;
                    }
                    _pending.Clear().Append(trimmed);
                    _state = State.Content;
                    continue;
                }
                default:
                    content.Append(buffer);
                    _pending.Clear();
                    return;
            }
        }
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of <paramref name="tag"/>.</summary>
    internal static int PartialSuffixLength(string text, string tag)
    {
        for (int n = Math.Min(tag.Length - 1, text.Length); n > 0; n--)
            if (string.CompareOrdinal(text, text.Length - n, tag, 0, n) == 0)
                return n;
        return 0;
    }
}

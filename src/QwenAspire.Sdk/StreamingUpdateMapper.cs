using System.Text;
using Microsoft.Extensions.AI;
using QwenAspire.Sdk.Wire;

namespace QwenAspire.Sdk;

/// <summary>
/// Turns stream chunks into <see cref="ChatResponseUpdate"/>s. Text and reasoning deltas pass straight through;
/// tool calls arrive as a name and id then argument fragments keyed by index, so they are assembled here and
/// emitted as complete <see cref="FunctionCallContent"/>s when the choice finishes (or the stream ends).
/// </summary>
internal sealed class StreamingUpdateMapper
{
    private readonly SortedDictionary<int, PendingCall> _calls = [];
    private string? _responseId;
    private string? _model;
    private DateTimeOffset? _created;

    public IEnumerable<ChatResponseUpdate> Map(ChatCompletionResponse chunk)
    {
        _responseId ??= chunk.Id;
        _model ??= chunk.Model;
        _created ??= ChatResponseMapper.ToTimestamp(chunk.Created);

        foreach (var choice in chunk.Choices ?? [])
        {
            var delta = choice.Delta;
            var contents = new List<AIContent>();
            if (!string.IsNullOrEmpty(delta?.ReasoningContent))
                contents.Add(new TextReasoningContent(delta.ReasoningContent));
            if (!string.IsNullOrEmpty(delta?.Content))
                contents.Add(new TextContent(delta.Content));
            foreach (var fragment in delta?.ToolCalls ?? [])
                Accumulate(fragment);

            var finish = ChatResponseMapper.MapFinishReason(choice.FinishReason);
            if (finish is not null)
                contents.AddRange(DrainCalls());

            if (contents.Count == 0 && finish is null && delta?.Role is null && choice.TokenIds is null)
                continue;
            var update = NewUpdate(chunk, contents);
            update.Role = delta?.Role is { Length: > 0 } role ? new ChatRole(role) : ChatRole.Assistant;
            update.FinishReason = finish;
            if (choice.TokenIds is { } ids)
                (update.AdditionalProperties ??= [])[ChatResponseMapper.TokenIdsKey] = ids.ToArray();
            yield return update;
        }

        if (chunk.Usage is not null)
        {
            var usage = NewUpdate(chunk, [new UsageContent(ChatResponseMapper.MapUsage(chunk.Usage)!)]);
            usage.Role = ChatRole.Assistant;
            yield return usage;
        }
        if (chunk.PromptTokenIds is { } promptIds)
        {
            var ids = NewUpdate(chunk, []);
            ids.Role = ChatRole.Assistant;
            (ids.AdditionalProperties ??= [])[ChatResponseMapper.PromptTokenIdsKey] = promptIds.ToArray();
            yield return ids;
        }
    }

    /// <summary>Calls still pending when the stream ended without a finish_reason (a truncated stream).</summary>
    public ChatResponseUpdate? Complete()
    {
        List<AIContent> calls = [.. DrainCalls()];
        if (calls.Count == 0)
            return null;
        return new ChatResponseUpdate(ChatRole.Assistant, calls)
        {
            ResponseId = _responseId,
            MessageId = _responseId,
            ModelId = _model,
            CreatedAt = _created,
            FinishReason = ChatFinishReason.ToolCalls,
        };
    }

    private ChatResponseUpdate NewUpdate(ChatCompletionResponse chunk, List<AIContent> contents) => new(null, contents)
    {
        ResponseId = chunk.Id ?? _responseId,
        MessageId = chunk.Id ?? _responseId,
        ModelId = chunk.Model ?? _model,
        CreatedAt = ChatResponseMapper.ToTimestamp(chunk.Created) ?? _created,
        RawRepresentation = chunk,
    };

    private void Accumulate(WireToolCall fragment)
    {
        // Servers that omit the index send one call at a time; treat that as index 0.
        var index = fragment.Index ?? 0;
        if (!_calls.TryGetValue(index, out var call))
            _calls[index] = call = new PendingCall();
        if (!string.IsNullOrEmpty(fragment.Id))
            call.Id = fragment.Id;
        if (!string.IsNullOrEmpty(fragment.Function?.Name))
            call.Name = fragment.Function.Name;
        if (fragment.Function?.Arguments is { } args)
            call.Arguments.Append(args);
    }

    private IEnumerable<FunctionCallContent> DrainCalls()
    {
        var calls = _calls.Values.Select(c => ChatResponseMapper.CreateFunctionCall(c.Id, c.Name, c.Arguments.ToString())).ToList();
        _calls.Clear();
        return calls;
    }

    private sealed class PendingCall
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public StringBuilder Arguments { get; } = new();
    }
}

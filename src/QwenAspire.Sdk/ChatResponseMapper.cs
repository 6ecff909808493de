using System.Text.Json;
using Microsoft.Extensions.AI;
using QwenAspire.Sdk.Wire;

namespace QwenAspire.Sdk;

/// <summary>Maps the OpenAI answer (non-streaming) onto Microsoft.Extensions.AI types.</summary>
internal static class ChatResponseMapper
{
    public const string TokenIdsKey = "token_ids";
    public const string PromptTokenIdsKey = "prompt_token_ids";

    public static ChatResponse Map(ChatCompletionResponse response)
    {
        var choice = response.Choices is { Count: > 0 } choices ? choices[0] : null;
        var wire = choice?.Message;
        var message = new ChatMessage(ChatRole.Assistant, MapContents(wire)) { MessageId = response.Id, RawRepresentation = wire };
        if (wire?.Role is { Length: > 0 } role)
            message.Role = new ChatRole(role);
        if (choice?.TokenIds is { } tokenIds)
            (message.AdditionalProperties ??= [])[TokenIdsKey] = tokenIds.ToArray();

        var result = new ChatResponse(message)
        {
            ResponseId = response.Id,
            ModelId = response.Model,
            CreatedAt = ToTimestamp(response.Created),
            FinishReason = MapFinishReason(choice?.FinishReason),
            Usage = MapUsage(response.Usage),
            RawRepresentation = response,
        };
        if (response.PromptTokenIds is { } promptIds)
            (result.AdditionalProperties ??= [])[PromptTokenIdsKey] = promptIds.ToArray();
        return result;
    }

    private static List<AIContent> MapContents(WireMessage? wire)
    {
        var contents = new List<AIContent>();
        if (wire is null)
            return contents;
        if (!string.IsNullOrEmpty(wire.ReasoningContent))
            contents.Add(new TextReasoningContent(wire.ReasoningContent));
        if (!string.IsNullOrEmpty(wire.Content))
            contents.Add(new TextContent(wire.Content));
        foreach (var call in wire.ToolCalls ?? [])
            contents.Add(CreateFunctionCall(call.Id, call.Function?.Name, call.Function?.Arguments));
        return contents;
    }

    /// <summary>A tool call whose arguments do not parse still becomes a call, carrying the parse exception (as MEAI's OpenAI client does).</summary>
    public static FunctionCallContent CreateFunctionCall(string? id, string? name, string? arguments) =>
        FunctionCallContent.CreateFromParsedArguments(
            string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments,
            id ?? string.Empty,
            name ?? string.Empty,
            json => JsonSerializer.Deserialize(json, QwenJsonContext.Default.DictionaryStringObject));

    public static ChatFinishReason? MapFinishReason(string? reason) => reason switch
    {
        null or "" => null,
        "stop" => ChatFinishReason.Stop,
        "length" => ChatFinishReason.Length,
        "tool_calls" or "function_call" => ChatFinishReason.ToolCalls,
        "content_filter" => ChatFinishReason.ContentFilter,
        _ => new ChatFinishReason(reason),
    };

    public static UsageDetails? MapUsage(WireUsage? usage) => usage is null ? null : new UsageDetails
    {
        InputTokenCount = usage.PromptTokens,
        OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.TotalTokens ?? usage.PromptTokens + usage.CompletionTokens,
        ReasoningTokenCount = usage.CompletionTokensDetails?.ReasoningTokens,
        CachedInputTokenCount = usage.PromptTokensDetails?.CachedTokens,
    };

    public static DateTimeOffset? ToTimestamp(long? unixSeconds) =>
        unixSeconds is { } s and > 0 ? DateTimeOffset.FromUnixTimeSeconds(s) : null;
}

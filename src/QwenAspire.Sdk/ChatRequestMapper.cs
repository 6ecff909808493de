using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using QwenAspire.Sdk.Wire;

namespace QwenAspire.Sdk;

/// <summary>Maps Microsoft.Extensions.AI messages and options onto the OpenAI request body.</summary>
internal static class ChatRequestMapper
{
    public static ChatCompletionRequest Map(IEnumerable<ChatMessage> messages, ChatOptions? options, string model)
    {
        var request = new ChatCompletionRequest { Model = model, Messages = MapMessages(messages, options?.Instructions) };
        if (options is null)
            return request;

        request.Temperature = options.Temperature;
        request.TopP = options.TopP;
        request.TopK = options.TopK;
        request.MaxTokens = options.MaxOutputTokens;
        request.PresencePenalty = options.PresencePenalty;
        request.FrequencyPenalty = options.FrequencyPenalty;
        request.Seed = options.Seed;
        request.Stop = options.StopSequences is { Count: > 0 } stop ? [.. stop] : null;
        request.ResponseFormat = MapResponseFormat(options.ResponseFormat);
        request.ParallelToolCalls = options.AllowMultipleToolCalls;

        var tools = options.Tools?.OfType<AIFunctionDeclaration>().ToList();
        if (tools is { Count: > 0 })
        {
            request.Tools = tools.Select(f => new WireTool
            {
                Function = new WireFunctionDefinition { Name = f.Name, Description = NullIfEmpty(f.Description), Parameters = f.JsonSchema },
            }).ToList();
            request.ToolChoice = MapToolChoice(options.ToolMode);
        }
        else if (options.ToolMode is NoneChatToolMode)
        {
            request.ToolChoice = JsonSerializer.SerializeToElement("none", AIJsonUtilities.DefaultOptions);
        }

        if (options.AdditionalProperties is { Count: > 0 } extra)
        {
            // Extensions the server understands (top_k, min_p, repetition_penalty, enable_thinking,
            // chat_template_kwargs, return_token_ids, …) travel as top-level fields, exactly as named.
            request.Extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var (key, value) in extra)
                request.Extra[key] = JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions);
            if (request.TopK is not null)
                request.Extra.Remove("top_k");
        }
        return request;
    }

    private static List<WireMessage> MapMessages(IEnumerable<ChatMessage> messages, string? instructions)
    {
        var wire = new List<WireMessage>();
        if (!string.IsNullOrWhiteSpace(instructions))
            wire.Add(new WireMessage { Role = "system", Content = instructions });

        foreach (var message in messages)
        {
            var role = message.Role.Value;
            var text = new StringBuilder();
            var reasoning = new StringBuilder();
            List<WireToolCall>? calls = null;
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextReasoningContent r:
                        reasoning.Append(r.Text);
                        break;
                    case TextContent t:
                        text.Append(t.Text);
                        break;
                    case FunctionCallContent call:
                        (calls ??= []).Add(new WireToolCall
                        {
                            Id = call.CallId,
                            Type = "function",
                            Function = new WireFunctionCall
                            {
                                Name = call.Name,
                                Arguments = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions),
                            },
                        });
                        break;
                    case FunctionResultContent result:
                        // OpenAI carries each tool result as its own role "tool" message tied to the call id.
                        wire.Add(new WireMessage { Role = "tool", ToolCallId = result.CallId, Content = ResultText(result) });
                        break;
                    case UsageContent:
                        break;
                    default:
                        throw new NotSupportedException(
                            $"Message content of type {content.GetType().Name} (role '{role}') is not supported by the Qwen endpoint; it accepts text, reasoning, function calls and function results.");
                }
            }

            // A message made only of tool results has already become its role "tool" messages.
            if (message.Contents.Count > 0 && message.Contents.All(c => c is FunctionResultContent or UsageContent))
                continue;
            wire.Add(new WireMessage
            {
                Role = role,
                Name = message.AuthorName,
                Content = text.Length > 0 || calls is null ? text.ToString() : null,
                ReasoningContent = reasoning.Length > 0 ? reasoning.ToString() : null,
                ToolCalls = calls,
            });
        }
        return wire;
    }

    private static string ResultText(FunctionResultContent result) => result.Result switch
    {
        null when result.Exception is not null => $"Error: {result.Exception.Message}",
        null => string.Empty,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? string.Empty,
        var other => JsonSerializer.Serialize(other, AIJsonUtilities.DefaultOptions.GetTypeInfo(other.GetType())),
    };

    private static WireResponseFormat? MapResponseFormat(ChatResponseFormat? format) => format switch
    {
        null => null,
        ChatResponseFormatText => new WireResponseFormat { Type = "text" },
        ChatResponseFormatJson { Schema: { } schema } json => new WireResponseFormat
        {
            Type = "json_schema",
            JsonSchema = new WireJsonSchema { Name = json.SchemaName ?? "response", Description = json.SchemaDescription, Schema = schema },
        },
        ChatResponseFormatJson => new WireResponseFormat { Type = "json_object" },
        _ => throw new NotSupportedException($"ChatOptions.ResponseFormat of type {format.GetType().Name} is not supported."),
    };

    private static JsonElement? MapToolChoice(ChatToolMode? mode) => mode switch
    {
        null or AutoChatToolMode => JsonSerializer.SerializeToElement("auto", AIJsonUtilities.DefaultOptions),
        NoneChatToolMode => JsonSerializer.SerializeToElement("none", AIJsonUtilities.DefaultOptions),
        RequiredChatToolMode { RequiredFunctionName: { } name } => JsonSerializer.SerializeToElement(
            new Dictionary<string, object> { ["type"] = "function", ["function"] = new Dictionary<string, string> { ["name"] = name } },
            AIJsonUtilities.DefaultOptions),
        RequiredChatToolMode => JsonSerializer.SerializeToElement("required", AIJsonUtilities.DefaultOptions),
        _ => null,
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>POST /tokenize: either <c>prompt</c> (plain text) or <c>messages</c> (rendered with the chat template).</summary>
public sealed class TokenizeRequest
{
    public string? Model { get; set; }
    public string? Prompt { get; set; }
    public List<ChatMessageParam>? Messages { get; set; }
    public bool? AddGenerationPrompt { get; set; }
    public JsonObject? ChatTemplateKwargs { get; set; }
    public JsonArray? Tools { get; set; }
    /// <summary>As in chat: shortcut for chat_template_kwargs.enable_thinking (unset: the model's default, as chat uses).</summary>
    public bool? EnableThinking { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record TokenizeResponse(IReadOnlyList<int> Tokens, int Count, int MaxModelLen)
{
    /// <summary>The rendered prompt, when messages were given.</summary>
    public string? Prompt { get; init; }
}

public sealed class DetokenizeRequest
{
    public string? Model { get; set; }
    public List<int>? Tokens { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record DetokenizeResponse(string Prompt);

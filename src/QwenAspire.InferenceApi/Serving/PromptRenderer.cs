using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>How a conversation is to be rendered, whatever front end it came from.</summary>
/// <param name="TemplateKwargs">chat_template_kwargs as sent (its enable_thinking wins over everything but a constraint).</param>
/// <param name="EnableThinking">The request's own thinking switch (enable_thinking, reasoning_effort), if any.</param>
/// <param name="Constrained">JSON output starts at the first token: the template renders with thinking off.</param>
public sealed record ChatPromptOptions(
    JsonArray? Tools = null,
    bool AddGenerationPrompt = true,
    JsonObject? TemplateKwargs = null,
    bool? EnableThinking = null,
    bool Constrained = false)
{
    /// <summary>A chat completion's rendering: its tools (unless tool_choice is "none"), kwargs and thinking switch.</summary>
    public static ChatPromptOptions For(ChatCompletionRequest r, bool constrained) => new(
        r.ToolsEnabled() ? r.Tools : null, r.AddGenerationPrompt ?? true, r.ChatTemplateKwargs, r.RequestedThinking(), constrained);

    /// <summary>/tokenize with messages: rendered exactly as chat would render them.</summary>
    public static ChatPromptOptions For(TokenizeRequest r) => new(
        r.Tools, r.AddGenerationPrompt ?? true, r.ChatTemplateKwargs, r.EnableThinking);
}

/// <summary>
/// The one prompt renderer: chat completions, /tokenize and any other front end render a conversation here, so
/// they agree on the prompt (the thinking switch above all). Messages are converted from the wire once, the
/// template variables resolved in one order, and a template that refuses the conversation answers 400.
/// </summary>
public sealed partial class PromptRenderer(IOptions<GenerationDefaultsOptions> defaults, ILogger<PromptRenderer> logger)
{
    /// <summary>Converts wire messages (errors name <c>messages[i]</c>) and renders them.</summary>
    public ApiError? Render(ServedModels models, string? adapter, IReadOnlyList<ChatMessageParam> messages, ChatPromptOptions options, out string prompt)
    {
        prompt = "";
        if (ChatMessageConverter.TryConvert(messages, out var converted) is { } error) return error;
        return Render(models, adapter, converted, options, out prompt);
    }

    /// <summary>Renders messages already in the template's shape (a front end with its own wire converts them first).</summary>
    public ApiError? Render(ServedModels models, string? adapter, JsonArray messages, ChatPromptOptions options, out string prompt)
    {
        prompt = "";
        var kwargs = TemplateVariables(models, adapter, options);
        var tools = options.Tools is { Count: > 0 } t ? (JsonArray)t.DeepClone() : null;
        try
        {
            prompt = models.Prompt.RenderChat(messages, tools, options.AddGenerationPrompt, kwargs);
            return null;
        }
        catch (ChatTemplateRejectedException ex)
        {
            // Templates stricter than Qwen3's refuse a system message after the first (agents add one mid-way):
            // they get one leading system message instead.
            if (ChatMessageConverter.TryMergeSystemMessages(messages, out var merged))
            {
                try
                {
                    prompt = models.Prompt.RenderChat(merged, tools, options.AddGenerationPrompt, kwargs);
                    return null;
                }
                catch (ChatTemplateRejectedException)
                {
                    // the merged conversation is refused too: report the template's first reason
                }
            }
            LogTemplateRejected(logger, ex.Message);
            return ApiError.BadRequest($"The chat template rejected the conversation: {ex.Message}", "messages", "invalid_conversation");
        }
    }

    /// <summary>
    /// Whether the served model thinks when a request does not say: its own <c>model.adapters.NAME.enable_thinking</c>,
    /// else <c>generation.enable_thinking</c>. Clients that send no switch (Dify's default mode) get this.
    /// </summary>
    public bool ThinkingByDefault(ServedModels models, string? adapter) =>
        adapter is not null && models.ThinkingDefaults.TryGetValue(adapter, out var own) ? own : defaults.Value.EnableThinking;

    /// <summary>chat_template_kwargs.enable_thinking wins, then the request's own switch, then the model's default.</summary>
    private Dictionary<string, JsonNode?> TemplateVariables(ServedModels models, string? adapter, ChatPromptOptions options)
    {
        var kwargs = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (options.TemplateKwargs is { } extra)
            foreach (var (key, value) in extra)
                kwargs[key] = value?.DeepClone();
        if (options.Constrained) kwargs["enable_thinking"] = false; // an explicit true was refused in validation
        else if (!kwargs.ContainsKey("enable_thinking"))
            kwargs["enable_thinking"] = options.EnableThinking ?? ThinkingByDefault(models, adapter);
        return kwargs;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat template rejected a conversation: {Reason}")]
    private static partial void LogTemplateRejected(ILogger logger, string reason);
}

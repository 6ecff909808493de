using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Diagnostics;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>Chat completions: render the conversation, submit it to the engine, then stream or aggregate.</summary>
public sealed partial class ChatServing(ModelHost host, IOptions<GenerationDefaultsOptions> defaults, IOptions<EngineOptions> engine, ILogger<ChatServing> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context, ChatCompletionRequest request)
    {
        if (ChatRequestValidation.Validate(request) is { } invalid) return invalid.ToResult();
        if (!host.TryGetModels(out var models, out var notReady)) return notReady!.ToResult();
        if (!models.TryResolve(request.Model!, out var adapter)) return ApiError.ModelNotFound(request.Model!, models.Names).ToResult();

        ResponseFormat.Parse(request.ResponseFormat, out var format);
        if (ResolveConstraint(format, models, out var constraint) is { } unconstrainable) return unconstrainable.ToResult();
        if (ForcedToolCalls.Resolve(request, models, ref constraint) is { } unforceable) return unforceable.ToResult();
        var (prompt, renderError) = RenderPrompt(request, models, constraint is not null);
        if (renderError is not null) return renderError.ToResult();
        int[] promptIds = models.Prompt.Encode(prompt!);
        if (promptIds.Length >= models.MaxContextLength)
            return ApiError.ContextLengthExceeded(promptIds.Length, models.MaxContextLength).ToResult();

        RequestValidation.ParseStop(request.Stop, out var stops);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        int? logprobs = request.Logprobs == true ? request.TopLogprobs ?? 0 : null;
        var requests = Enumerable.Range(0, request.N ?? 1).Select(i => new GenerationRequest($"{id}-{i}", adapter, promptIds,
            SamplingMapper.ToSamplingParams(request, request.RequestedMaxTokens(), logprobs, stops, models.Defaults,
                defaults.Value.MaxTokens, promptIds.Length, models.MaxContextLength, i, constraint))).ToList();

        using var activity = InferenceApiTelemetry.StartGeneration("chat", request.Model!, requests[0].Sampling, id, requests.Count);
        bool parseTools = request.ToolsEnabled();
        var choices = requests.Select((_, i) => new ChatChoiceState(i, parseTools, models.Prompt)).ToArray();
        var ct = context.RequestAborted;
        var (started, refused) = await ChoiceStreams.StartAsync(models, requests, engine.Value.MaxQueueLength, activity, ct);
        if (refused is not null) return refused.ToResult();
        await using var streams = started!;

        var response = new ChatResponseFactory(id, request.Model!, request.ReturnTokenIds == true ? promptIds : null);
        if (request.Stream == true)
        {
            await new ChatStreamer(new SseWriter(context.Response), response, choices, logger)
                .StreamAsync(streams, promptIds.Length, request.StreamOptions?.IncludeUsage == true, ct);
            InferenceApiTelemetry.RecordResult(activity, promptIds.Length, choices.Sum(c => c.CompletionTokens), choices.Select(c => c.FinishReasonText));
            return Results.Empty;
        }

        await foreach (var (index, output) in streams.ReadAllAsync(ct))
            choices[index].Apply(output);
        InferenceApiTelemetry.RecordResult(activity, promptIds.Length, choices.Sum(c => c.CompletionTokens), choices.Select(c => c.FinishReasonText));
        return Results.Json(response.Complete(choices, promptIds.Length), ProtocolJson.Options);
    }

    /// <summary>The shared constraint for a json response_format (null for text), or why there is none.</summary>
    internal static ApiError? ResolveConstraint(ResponseFormat format, ServedModels models, out Engine.Sampling.LogitsProcessors.ILogitsProcessorFactory? constraint)
    {
        constraint = null;
        if (!format.IsConstrained) return null;
        if (models.StructuredOutputs is not { } outputs)
            return ApiError.BadRequest("This server cannot constrain output for this model; response_format must be 'text'.", "response_format", "unsupported_value");
        return outputs.Resolve(format, out constraint);
    }

    /// <param name="constrained">JSON output or a forced tool call starts at the first token: the template renders with thinking off.</param>
    private (string? Prompt, ApiError? Error) RenderPrompt(ChatCompletionRequest request, ServedModels models, bool constrained)
    {
        if (ChatMessageConverter.TryConvert(request.Messages!, out var messages) is { } error) return (null, error);
        var kwargs = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (request.ChatTemplateKwargs is { } extra)
            foreach (var (key, value) in extra)
                kwargs[key] = value?.DeepClone();
        // chat_template_kwargs.enable_thinking wins, then the top-level shortcut, then the server default.
        if (constrained) kwargs["enable_thinking"] = false; // an explicit true was refused in validation
        else if (!kwargs.ContainsKey("enable_thinking"))
            kwargs["enable_thinking"] = request.EnableThinking ?? defaults.Value.EnableThinking;

        var tools = request.ToolsEnabled() ? (JsonArray)request.Tools!.DeepClone() : null;
        try
        {
            return (models.Prompt.RenderChat(messages, tools, request.AddGenerationPrompt ?? true, kwargs), null);
        }
        catch (ChatTemplateRejectedException ex)
        {
            LogTemplateRejected(logger, ex.Message);
            return (null, ApiError.BadRequest($"The chat template rejected the conversation: {ex.Message}", "messages", "invalid_conversation"));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat template rejected a conversation: {Reason}")]
    private static partial void LogTemplateRejected(ILogger logger, string reason);
}

using Microsoft.Extensions.Options;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling.LogitsProcessors;
using QwenAspire.InferenceApi.Diagnostics;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// A request ready for the engine: every prompt's token ids and the n generations of each, in choice order
/// (choice <c>i</c> belongs to prompt <c>i / ChoicesPerPrompt</c>).
/// </summary>
/// <param name="Operation">The GenAI operation name for telemetry: <c>chat</c>, <c>text_completion</c>, …</param>
/// <param name="ModelName">The served name as the request gave it (echoed in responses).</param>
/// <param name="PromptParam">The wire field a prompt that is too long is reported against.</param>
public sealed record PreparedGeneration(
    string Id, string Operation, string ModelName, ServedModels Models, string? Adapter,
    IReadOnlyList<int[]> PromptIds, int ChoicesPerPrompt, IReadOnlyList<GenerationRequest> Requests, string PromptParam)
{
    public int PromptTokens => PromptIds.Sum(p => p.Length);

    /// <summary>The OpenAI API the request came through (<c>openai.api.type</c>: chat_completions, responses, completions).</summary>
    public string? ApiType { get; init; }

    /// <summary><c>gen_ai.output.type</c>: json when a response/text format constrains the output, else text.</summary>
    public string? OutputType { get; init; }

    public int PromptIndexOf(int choice) => choice / ChoicesPerPrompt;
}

/// <summary>
/// The one serving pipeline every generating front end runs (chat completions, completions, and any other):
/// <list type="number">
/// <item>validate the wire request (Protocol, per front end, shared rules in <see cref="RequestValidation"/>);</item>
/// <item>resolve the model (<see cref="ResolveModel"/>) and, for a JSON response_format, its constraint;</item>
/// <item>render the conversation (<see cref="Renderer"/>) or take the raw prompt, and encode it;</item>
/// <item><see cref="Prepare"/> the engine requests (sampling parameters mapped in one place);</item>
/// <item><see cref="StartAsync"/>: submit them all; a refusal (queue full, context too long, bad values) comes
/// back as an error before any byte is written;</item>
/// <item>stream or aggregate the <see cref="GenerationRun"/>'s events (chat and Responses parse them with
/// <see cref="AssistantOutput"/>).</item>
/// </list>
/// </summary>
public sealed class ServingPipeline(
    ModelRegistry registry, PromptRenderer renderer, IOptions<GenerationDefaultsOptions> defaults, IOptions<EngineOptions> engine,
    ILogger<ServingPipeline> logger)
{
    public ModelRegistry Registry => registry;
    public PromptRenderer Renderer => renderer;

    /// <summary>The served set and the adapter for <paramref name="model"/>, or the 503/404 to answer.</summary>
    public ApiError? ResolveModel(string model, out ServedModels models, out string? adapter) =>
        registry.Resolve(model, out models, out adapter);

    /// <summary>The shared constraint for a json response_format (null for text), or why there is none.</summary>
    public static ApiError? ResolveConstraint(ResponseFormat format, ServedModels models, out ILogitsProcessorFactory? constraint)
    {
        constraint = null;
        if (!format.IsConstrained) return null;
        if (models.StructuredOutputs is not { } outputs)
            return ApiError.BadRequest("This server cannot constrain output for this model; response_format must be 'text'.", "response_format", "unsupported_value");
        return outputs.Resolve(format, out constraint);
    }

    /// <summary>The engine requests of <paramref name="choicesPerPrompt"/> generations of each prompt.</summary>
    /// <param name="idPrefix">The response id's prefix (<c>chatcmpl-</c>, <c>cmpl-</c>, <c>resp_</c>).</param>
    public PreparedGeneration Prepare(string operation, string idPrefix, string modelName, ServedModels models, string? adapter,
        IReadOnlyList<int[]> prompts, int choicesPerPrompt, SamplingInput sampling, string promptParam = "messages")
    {
        string id = idPrefix + Guid.NewGuid().ToString("N");
        var requests = new List<GenerationRequest>(prompts.Count * choicesPerPrompt);
        for (int p = 0; p < prompts.Count; p++)
            for (int i = 0; i < choicesPerPrompt; i++)
                requests.Add(new GenerationRequest($"{id}-{requests.Count}", adapter, prompts[p], SamplingMapper.ToSamplingParams(
                    sampling, models.Defaults, defaults.Value.MaxTokens, prompts[p].Length, models.MaxContextLength, i)));
        return new PreparedGeneration(id, operation, modelName, models, adapter, prompts, choicesPerPrompt, requests, promptParam);
    }

    /// <summary>Submits every generation and waits for the first event, or returns the refusal to answer with.</summary>
    public async Task<(GenerationRun? Run, ApiError? Refused)> StartAsync(PreparedGeneration prepared, CancellationToken cancellationToken)
    {
        var activity = InferenceApiTelemetry.StartGeneration(prepared.Operation, prepared.ModelName, prepared.Requests[0].Sampling,
            prepared.Id, prepared.Requests.Count, prepared.ApiType, prepared.OutputType);
        try
        {
            var (streams, refused) = await ChoiceStreams.StartAsync(prepared.Models, prepared.Requests, engine.Value.MaxQueueLength, activity, cancellationToken);
            if (refused is not null)
            {
                activity?.Dispose();
                return (null, refused.Code == "context_length_exceeded" ? refused with { Param = prepared.PromptParam } : refused);
            }
            return (new GenerationRun(prepared, streams!, activity, logger), null);
        }
        catch
        {
            activity?.Dispose();
            throw;
        }
    }
}

using Microsoft.Extensions.Options;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Diagnostics;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>Legacy completions: prompt text or token ids in, raw continuation out (no template, no parsing).</summary>
public sealed class CompletionServing(ModelHost host, IOptions<GenerationDefaultsOptions> defaults, IOptions<EngineOptions> engine, ILogger<CompletionServing> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context, CompletionRequest request)
    {
        if (RequestValidation.ValidateSampling(request, request.MaxTokens, "max_tokens") is { } invalid) return invalid.ToResult();
        if (request.Logprobs is < 0 or > RequestValidation.MaxTopLogprobs)
            return RequestValidation.Range("logprobs", $"between 0 and {RequestValidation.MaxTopLogprobs}", request.Logprobs).ToResult();
        if (request.Suffix is { Length: > 0 })
            return ApiError.BadRequest("'suffix' is not supported by this model.", "suffix", "unsupported_value").ToResult();
        if (!host.TryGetModels(out var models, out var notReady)) return notReady!.ToResult();
        if (PromptInputParser.TryParse(request.Prompt, models.VocabSize, out var prompts) is { } badPrompt) return badPrompt.ToResult();
        if (!models.TryResolve(request.Model!, out var adapter)) return ApiError.ModelNotFound(request.Model!, models.Names).ToResult();

        ResponseFormat.Parse(request.ResponseFormat, out var format);
        if (ChatServing.ResolveConstraint(format, models, out var constraint) is { } unconstrainable) return unconstrainable.ToResult();

        var promptIds = prompts.Select(p => p.TokenIds?.ToArray() ?? models.Prompt.Encode(p.Text!)).ToList();
        if (promptIds.FirstOrDefault(ids => ids.Length >= models.MaxContextLength) is { } tooLong)
            return (ApiError.ContextLengthExceeded(tooLong.Length, models.MaxContextLength) with { Param = "prompt" }).ToResult();

        RequestValidation.ParseStop(request.Stop, out var stops);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        int n = request.N ?? 1;
        var requests = new List<GenerationRequest>();
        var choices = new List<CompletionChoiceState>();
        for (int p = 0; p < promptIds.Count; p++)
            for (int i = 0; i < n; i++)
            {
                int index = p * n + i;
                requests.Add(new GenerationRequest($"{id}-{index}", adapter, promptIds[p], SamplingMapper.ToSamplingParams(request,
                    request.MaxTokens, request.Logprobs, stops, models.Defaults, defaults.Value.MaxTokens, promptIds[p].Length, models.MaxContextLength, i, constraint)));
                string echo = request.Echo == true ? prompts[p].Text ?? models.Prompt.Decode(promptIds[p], false) : "";
                choices.Add(new CompletionChoiceState(index, p, echo, models.Prompt));
            }

        using var activity = InferenceApiTelemetry.StartGeneration("text_completion", request.Model!, requests[0].Sampling, id, requests.Count);
        var ct = context.RequestAborted;
        var (started, refused) = await ChoiceStreams.StartAsync(models, requests, engine.Value.MaxQueueLength, activity, ct);
        if (refused is not null) return refused.ToResult();
        await using var streams = started!;

        int promptTokens = promptIds.Sum(ids => ids.Length);
        bool returnIds = request.ReturnTokenIds == true;
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        CompletionResponse Envelope(IReadOnlyList<CompletionChoice> c, UsageInfo? usage) =>
            new() { Id = id, Created = created, Model = request.Model!, Choices = c, Usage = usage };

        if (request.Stream == true)
        {
            var sse = new SseWriter(context.Response);
            await sse.StreamAsync(async token =>
            {
                foreach (var c in choices.Where(c => c.Text.Length > 0 || returnIds))
                    await sse.WriteAsync(Envelope([new CompletionChoice { Index = c.Index, Text = c.Text,
                        PromptTokenIds = returnIds ? promptIds[c.PromptIndex] : null }], null), token);
                await foreach (var (index, output) in streams.ReadAllAsync(token))
                {
                    var c = choices[index];
                    var logprobs = c.Apply(output);
                    if (output.TextDelta.Length > 0 || logprobs is not null || output.Finish is not null || (returnIds && output.TokenId is not null))
                        await sse.WriteAsync(Envelope([new CompletionChoice { Index = index, Text = output.TextDelta, Logprobs = logprobs,
                            FinishReason = c.FinishReasonText, StopReason = c.StopReason,
                            TokenIds = returnIds && output.TokenId is { } t ? [t] : null }], null), token);
                }
                if (request.StreamOptions?.IncludeUsage == true)
                    await sse.WriteAsync(Envelope([], new UsageInfo(promptTokens, choices.Sum(c => c.CompletionTokens))), token);
            }, id, logger, ct);
            InferenceApiTelemetry.RecordResult(activity, promptTokens, choices.Sum(c => c.CompletionTokens), choices.Select(c => c.FinishReasonText));
            return Results.Empty;
        }

        await foreach (var (index, output) in streams.ReadAllAsync(ct))
            choices[index].Apply(output);
        InferenceApiTelemetry.RecordResult(activity, promptTokens, choices.Sum(c => c.CompletionTokens), choices.Select(c => c.FinishReasonText));
        return Results.Json(Envelope(choices.Select(c => new CompletionChoice
        {
            Index = c.Index,
            Text = c.Text,
            Logprobs = c.Logprobs,
            FinishReason = c.FinishReasonText,
            StopReason = c.StopReason,
            PromptTokenIds = returnIds ? promptIds[c.PromptIndex] : null,
            TokenIds = returnIds ? c.TokenIds : null,
        }).ToList(), new UsageInfo(promptTokens, choices.Sum(c => c.CompletionTokens))), ProtocolJson.Options);
    }
}

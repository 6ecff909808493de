using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>Legacy completions on the serving pipeline: prompt text or token ids in, raw continuation out (no template, no parsing).</summary>
public sealed class CompletionServing(ServingPipeline pipeline, ILogger<CompletionServing> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context, CompletionRequest request)
    {
        if (CompletionRequestValidation.Validate(request, out var fields) is { } invalid) return invalid.ToResult();
        if (!pipeline.Registry.TryGetModels(out var served, out var notReady)) return notReady!.ToResult();
        if (PromptInputParser.TryParse(request.Prompt, served.VocabSize, out var prompts) is { } badPrompt) return badPrompt.ToResult();
        if (pipeline.ResolveModel(request.Model!, out var models, out var adapter) is { } unresolved) return unresolved.ToResult();
        if (ServingPipeline.ResolveConstraint(fields.Format, models, out var constraint) is { } unconstrainable) return unconstrainable.ToResult();

        var promptIds = prompts.Select(p => p.TokenIds?.ToArray() ?? models.Prompt.Encode(p.Text!)).ToList();
        int n = request.N ?? 1;
        // echo + logprobs: the legacy API scores the echoed prompt too (vLLM's prompt_logprobs), each token given those before it.
        bool promptLogprobs = request.Echo == true && request.Logprobs is not null;
        var sampling = SamplingInput.From(request, fields, request.MaxTokens, request.Logprobs, constraint) with
        {
            PromptLogprobs = promptLogprobs ? request.Logprobs : null,
        };
        var prepared = pipeline.Prepare("text_completion", "cmpl-", request.Model!, models, adapter, promptIds, n, sampling, promptParam: "prompt")
            with
        { ApiType = "completions", OutputType = fields.Format.IsConstrained ? "json" : "text" };
        var ct = context.RequestAborted;
        var (run, refused) = await pipeline.StartAsync(prepared, ct);
        if (refused is not null) return refused.ToResult();
        await using var _ = run;

        var choices = prepared.Requests.Select((_, index) =>
        {
            int p = prepared.PromptIndexOf(index);
            string echo = request.Echo == true ? prompts[p].Text ?? models.Prompt.Decode(promptIds[p], false) : "";
            return new CompletionChoiceState(index, p, echo, promptIds[p], models.Prompt);
        }).ToList();
        var response = new CompletionResponseFactory(prepared, request.ReturnTokenIds == true);
        if (request.Stream == true)
        {
            await new CompletionStreamer(new SseWriter(context.Response), response, choices, promptLogprobs, logger)
                .StreamAsync(run!, request.StreamOptions?.IncludeUsage == true, ct);
            run!.RecordResult(choices.Sum(c => c.CompletionTokens), choices.Select(c => c.FinishReasonText));
            return Results.Empty;
        }

        await foreach (var (index, output) in run!.ReadAllAsync(ct))
            choices[index].Apply(output);
        run.RecordResult(choices.Sum(c => c.CompletionTokens), choices.Select(c => c.FinishReasonText));
        return Results.Json(response.Complete(choices), ProtocolJson.Options);
    }
}

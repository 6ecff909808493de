using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>Chat completions on the serving pipeline: validate, resolve, render, encode, submit, then stream or aggregate.</summary>
public sealed class ChatServing(ServingPipeline pipeline, ILogger<ChatServing> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context, ChatCompletionRequest request)
    {
        if (ChatRequestValidation.Validate(request, out var fields) is { } invalid) return invalid.ToResult();
        if (pipeline.ResolveModel(request.Model!, out var models, out var adapter) is { } unresolved) return unresolved.ToResult();
        if (ServingPipeline.ResolveConstraint(fields.Format, models, out var constraint) is { } unconstrainable) return unconstrainable.ToResult();
        if (ForcedToolCalls.Resolve(request, models, ref constraint) is { } unforceable) return unforceable.ToResult();
        var promptOptions = ChatPromptOptions.For(request, constraint is not null); // JSON or a forced call: thinking off
        if (pipeline.Renderer.Render(models, adapter, request.Messages!, promptOptions, out var prompt) is { } rejected) return rejected.ToResult();
        int[] promptIds = models.Prompt.Encode(prompt);

        int? logprobs = request.Logprobs == true ? request.TopLogprobs ?? 0 : null;
        var prepared = pipeline.Prepare("chat", "chatcmpl-", request.Model!, models, adapter, [promptIds], request.N ?? 1,
            SamplingInput.From(request, fields, request.RequestedMaxTokens(), logprobs, constraint))
            with
        { ApiType = "chat_completions", OutputType = fields.Format.IsConstrained ? "json" : "text" };
        var ct = context.RequestAborted;
        var (run, refused) = await pipeline.StartAsync(prepared, ct);
        if (refused is not null) return refused.ToResult();
        await using var _ = run;

        bool parseTools = request.ToolsEnabled();
        var choices = prepared.Requests.Select((_, i) => new ChatChoiceState(i, parseTools, models.Prompt)).ToArray();
        var response = new ChatResponseFactory(prepared.Id, request.Model!, request.ReturnTokenIds == true ? promptIds : null);
        if (request.Stream == true)
        {
            await new ChatStreamer(new SseWriter(context.Response), response, choices, logger)
                .StreamAsync(run!, promptIds.Length, request.StreamOptions?.IncludeUsage == true, ct);
            run!.RecordResult(choices.Sum(c => c.CompletionTokens), choices.Select(c => c.FinishReasonText));
            return Results.Empty;
        }

        await foreach (var (index, output) in run!.ReadAllAsync(ct))
            choices[index].Apply(output);
        run.RecordResult(choices.Sum(c => c.CompletionTokens), choices.Select(c => c.FinishReasonText));
        return Results.Json(response.Complete(choices, promptIds.Length), ProtocolJson.Options);
    }
}

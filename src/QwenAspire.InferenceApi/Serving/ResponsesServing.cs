using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// The Responses API on the serving pipeline: validate and convert the input items (Protocol), resolve the model
/// and the text.format constraint, render with the shared renderer, submit, then stream events or aggregate the
/// output items. Stateless: nothing is stored, so the answer always says <c>store: false</c>.
/// </summary>
public sealed class ResponsesServing(ServingPipeline pipeline, ILogger<ResponsesServing> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context, ResponsesRequest request)
    {
        if (ResponsesRequestValidation.Validate(request, out var fields) is { } invalid) return invalid.ToResult();
        if (pipeline.ResolveModel(request.Model!, out var models, out var adapter) is { } unresolved) return unresolved.ToResult();
        if (ServingPipeline.ResolveConstraint(fields.Format, models, out var constraint) is { } unconstrainable)
            return ResponsesRequestValidation.AsTextFormatError(unconstrainable).ToResult();
        if (ForcedToolCalls.Resolve(fields.ToolChoice, fields.Tools, request.ParallelToolCalls ?? true, models, ref constraint) is { } unforceable)
            return (unforceable.Param == "tool_choice.function.name" ? unforceable with { Param = "tool_choice.name" } : unforceable).ToResult();
        // JSON output or a forced call: thinking off, the grammar holds from the first token.
        var options = new ChatPromptOptions(fields.Tools, EnableThinking: fields.Thinking, Constrained: constraint is not null);
        if (pipeline.Renderer.Render(models, adapter, fields.Messages, options, out var prompt) is { } rejected)
            return (rejected with { Param = "input" }).ToResult();
        int[] promptIds = models.Prompt.Encode(prompt);

        var sampling = new SamplingInput
        {
            Temperature = request.Temperature,
            TopP = request.TopP,
            TopK = request.TopK,
            MinP = request.MinP,
            RepetitionPenalty = request.RepetitionPenalty,
            Seed = request.Seed,
            MaxTokens = request.MaxOutputTokens,
            Constraint = constraint,
        };
        // The GenAI conventions name a Responses call "chat" too; openai.api.type tells the two APIs apart.
        var prepared = pipeline.Prepare("chat", "resp_", request.Model!, models, adapter, [promptIds], 1, sampling, promptParam: "input")
            with
        { ApiType = "responses", OutputType = fields.Format.IsConstrained ? "json" : "text" };
        var ct = context.RequestAborted;
        var (run, refused) = await pipeline.StartAsync(prepared, ct);
        if (refused is not null) return refused.ToResult();
        await using var _ = run;

        var state = new ResponsesOutputState(fields.ParseTools);
        var response = Shell(prepared.Id, request);
        if (request.Stream == true)
        {
            await new ResponsesStreamer(new SseWriter(context.Response), logger).StreamAsync(run!, response, state, promptIds.Length, models, ct);
            run!.RecordResult(state.CompletionTokens, [state.FinishReasonText]);
            return Results.Empty;
        }

        await foreach (var (_, output) in run!.ReadAllAsync(ct))
            state.Apply(output);
        run.RecordResult(state.CompletionTokens, [state.FinishReasonText]);
        Finish(response, state, promptIds.Length, models);
        return Results.Json(response, ProtocolJson.Options);
    }

    /// <summary>The final status, output items, incomplete_details and usage.</summary>
    internal static void Finish(ResponseObject response, ResponsesOutputState state, int promptTokens, ServedModels models)
    {
        response.Status = state.Status;
        response.Output = state.Output;
        if (state.Status == "incomplete") response.IncompleteDetails = new ResponseIncompleteDetails("max_output_tokens");
        // The engine counts tokens, not which of them were thinking: the reasoning text is encoded again.
        int reasoningTokens = state.ReasoningText.Length == 0 ? 0 : Math.Min(state.CompletionTokens, models.Prompt.Encode(state.ReasoningText).Length);
        response.Usage = new ResponseUsage(promptTokens, new ResponseInputTokensDetails(0), state.CompletionTokens,
            new ResponseOutputTokensDetails(reasoningTokens), promptTokens + state.CompletionTokens);
    }

    /// <summary>The response as it starts (in_progress, no output): the request's settings echoed, as OpenAI does.</summary>
    private static ResponseObject Shell(string id, ResponsesRequest r) => new()
    {
        Id = id,
        CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        Status = "in_progress",
        Model = r.Model!,
        Instructions = r.Instructions,
        MaxOutputTokens = r.MaxOutputTokens,
        ParallelToolCalls = r.ParallelToolCalls ?? true,
        Reasoning = new ResponseReasoningInfo { Effort = r.Reasoning?.Effort, Summary = r.Reasoning?.Summary },
        Temperature = r.Temperature,
        TopP = r.TopP,
        Text = r.Text?.Format is { ValueKind: JsonValueKind.Object } format
            ? new JsonObject { ["format"] = JsonNode.Parse(format.GetRawText()) }
            : new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
        ToolChoice = r.ToolChoice is { ValueKind: not JsonValueKind.Null } choice ? JsonNode.Parse(choice.GetRawText())! : "auto",
        Tools = r.Tools is { } tools ? (JsonArray)tools.DeepClone() : [],
        User = r.User,
        Metadata = r.Metadata is { } metadata ? (JsonObject)metadata.DeepClone() : [],
    };
}

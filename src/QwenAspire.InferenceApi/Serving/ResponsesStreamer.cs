using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Streams one Responses generation as OpenAI does: <c>response.created</c>, <c>response.in_progress</c>, then
/// per engine step the item events <see cref="ResponsesOutputState"/> reports (output_item.added,
/// content_part.added, output_text/reasoning_text/function_call_arguments deltas and dones, output_item.done),
/// then <c>response.completed</c> (or <c>response.incomplete</c> when max_output_tokens ended it). Each event has an
/// <c>event:</c> line and a sequence_number from 0; there is no [DONE]. A failure after the first byte is an
/// <c>error</c> event followed by <c>response.failed</c>.
/// </summary>
public sealed class ResponsesStreamer(SseWriter sse, ILogger logger)
{
    private int _sequence;

    public Task StreamAsync(GenerationRun run, ResponseObject response, ResponsesOutputState state, int promptTokens, ServedModels models,
        CancellationToken ct) =>
        sse.StreamAsync(async token =>
        {
            await WriteAsync(new ResponseStreamEvent(ResponseStreamEvent.Created) { Response = Snapshot(response) }, token);
            await WriteAsync(new ResponseStreamEvent(ResponseStreamEvent.InProgress) { Response = Snapshot(response) }, token);
            await foreach (var (_, output) in run.ReadAllAsync(token))
                foreach (var e in state.Apply(output))
                    await WriteAsync(e, token);
            ResponsesServing.Finish(response, state, promptTokens, models);
            string last = state.Status == "incomplete" ? ResponseStreamEvent.Incomplete : ResponseStreamEvent.Completed;
            await WriteAsync(new ResponseStreamEvent(last) { Response = response }, token);
        }, response.Id, logger, ct, async (error, token) =>
        {
            await WriteAsync(ResponseStreamEvent.FromError(error), token);
            response.Status = "failed";
            response.Error = new ResponseErrorInfo(error.Code ?? "server_error", error.Message);
            response.Output = state.Output;
            await WriteAsync(new ResponseStreamEvent(ResponseStreamEvent.Failed) { Response = response }, token);
        }, endWithDone: false);

    private Task WriteAsync(ResponseStreamEvent e, CancellationToken ct)
    {
        e.SequenceNumber = _sequence++;
        return sse.WriteAsync(e.Type, e, ct);
    }

    /// <summary>The response as it stands before any output (created and in_progress carry it without items).</summary>
    private static ResponseObject Snapshot(ResponseObject response) => new()
    {
        Id = response.Id, CreatedAt = response.CreatedAt, Status = response.Status, Model = response.Model,
        Instructions = response.Instructions, MaxOutputTokens = response.MaxOutputTokens, ParallelToolCalls = response.ParallelToolCalls,
        Reasoning = response.Reasoning, Temperature = response.Temperature, Text = response.Text, ToolChoice = response.ToolChoice,
        Tools = response.Tools, TopP = response.TopP, User = response.User, Metadata = response.Metadata,
    };
}

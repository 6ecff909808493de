using System.Text.Json;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// One streaming event of the Responses API (<c>event: {type}</c> / <c>data: {json}</c>); which fields are set
/// depends on the type, as in OpenAI's spec (nulls are left out). <see cref="SequenceNumber"/> is set when written.
/// </summary>
public sealed record ResponseStreamEvent(string Type)
{
    public const string Created = "response.created";
    public const string InProgress = "response.in_progress";
    public const string Completed = "response.completed";
    public const string Incomplete = "response.incomplete";
    public const string Failed = "response.failed";
    public const string OutputItemAdded = "response.output_item.added";
    public const string OutputItemDone = "response.output_item.done";
    public const string ContentPartAdded = "response.content_part.added";
    public const string ContentPartDone = "response.content_part.done";
    public const string OutputTextDelta = "response.output_text.delta";
    public const string OutputTextDone = "response.output_text.done";
    public const string ReasoningTextDelta = "response.reasoning_text.delta";
    public const string ReasoningTextDone = "response.reasoning_text.done";
    public const string FunctionCallArgumentsDelta = "response.function_call_arguments.delta";
    public const string FunctionCallArgumentsDone = "response.function_call_arguments.done";
    public const string Error = "error";

    public int SequenceNumber { get; set; }
    public ResponseObject? Response { get; init; }
    public int? OutputIndex { get; init; }
    public ResponseOutputItem? Item { get; init; }
    public string? ItemId { get; init; }
    public int? ContentIndex { get; init; }
    public ResponseTextPart? Part { get; init; }
    public string? Delta { get; init; }
    public string? Text { get; init; }
    public string? Name { get; init; }
    public string? Arguments { get; init; }
    public List<JsonElement>? Logprobs { get; init; }
    public string? Code { get; init; }
    public string? Message { get; init; }
    public string? Param { get; init; }

    /// <summary>The <c>error</c> event: a failure after the stream started.</summary>
    public static ResponseStreamEvent FromError(ApiError error) =>
        new(Error) { Code = error.Code ?? error.Type, Message = error.Message, Param = error.Param };
}

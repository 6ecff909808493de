using QwenAspire.InferenceApi.Protocol;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Api;

public static class ChatApi
{
    /// <summary>
    /// The documented route, the one without /v1, and Dify's doubled paths: its provider appends
    /// "chat/completions" to whatever base URL the user typed, full URL included (with or without /v1).
    /// </summary>
    public static readonly string[] Routes =
        ["/v1/chat/completions", "/chat/completions", "/v1/chat/completions/chat/completions", "/chat/completions/chat/completions"];

    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        foreach (var route in Routes)
        {
            var endpoint = app.MapPost(route, CreateAsync)
                .WithTags("Chat")
                .Accepts<ChatCompletionRequest>("application/json")
                .Produces<ChatCompletionResponse>(StatusCodes.Status200OK)
                .Produces<ChatCompletionChunk>(StatusCodes.Status200OK, "text/event-stream")
                .ProducesErrors();
            if (route == Routes[0])
                endpoint.WithName("CreateChatCompletion")
                    .WithSummary("Chat completion (OpenAI-compatible; streaming with stream=true)")
                    .WithDescription("Renders the messages with the model's chat template. Qwen3 thinking is returned as reasoning_content; " +
                                     "<tool_call> blocks as tool_calls. Extensions: chat_template_kwargs, enable_thinking, top_k, min_p, " +
                                     "repetition_penalty, return_token_ids.");
            else
                endpoint.ExcludeFromDescription();
        }
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, JsonBodyReader reader, ChatServing serving)
    {
        var (body, error) = await reader.ReadAsync<ChatCompletionRequest>(context.Request, b => b.Unknown);
        return error is not null ? error.ToResult() : await serving.HandleAsync(context, body!);
    }

    /// <summary>The error rows every model endpoint may answer with, for the OpenAPI document.</summary>
    internal static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder builder) => builder
        .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
        .Produces<ErrorResponse>(StatusCodes.Status401Unauthorized)
        .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
        .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
        .Produces<ErrorResponse>(StatusCodes.Status429TooManyRequests)
        .Produces<ErrorResponse>(StatusCodes.Status500InternalServerError)
        .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable);
}

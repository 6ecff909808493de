using QwenAspire.InferenceApi.Protocol;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Api;

public static class ResponsesApi
{
    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        foreach (var route in new[] { "/v1/responses", "/responses" })
        {
            var endpoint = app.MapPost(route, CreateAsync)
                .WithTags("Responses")
                .Accepts<ResponsesRequest>("application/json")
                .Produces<ResponseObject>(StatusCodes.Status200OK)
                .Produces<ResponseStreamEvent>(StatusCodes.Status200OK, "text/event-stream")
                .ProducesErrors();
            if (route == "/v1/responses")
                endpoint.WithName("CreateResponse")
                    .WithSummary("Responses API (OpenAI-compatible, stateless; streaming with stream=true)")
                    .WithDescription("input as a string or items (messages, function_call, function_call_output), instructions, " +
                                     "max_output_tokens, flat function tools, reasoning.effort (none/minimal: thinking off), text.format " +
                                     "json_schema/json_object. Nothing is stored: store is ignored, previous_response_id is refused.");
            else
                endpoint.ExcludeFromDescription();
        }
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, JsonBodyReader reader, ResponsesServing serving)
    {
        var (body, error) = await reader.ReadAsync<ResponsesRequest>(context.Request, b => b.Unknown);
        return error is not null ? error.ToResult() : await serving.HandleAsync(context, body!);
    }
}

using QwenAspire.InferenceApi.Protocol;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Api;

public static class CompletionsApi
{
    /// <summary>
    /// The documented route, the one without /v1, and what Dify's "Completion" mode calls when the user typed the
    /// full chat URL as base URL (it appends "completions"): a completions request, served as one.
    /// </summary>
    public static readonly string[] Routes =
        ["/v1/completions", "/completions", "/v1/chat/completions/completions", "/chat/completions/completions", "/v1/completions/completions"];

    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        foreach (var route in Routes)
        {
            var endpoint = app.MapPost(route, CreateAsync)
                .WithTags("Completions")
                .Accepts<CompletionRequest>("application/json")
                .Produces<CompletionResponse>(StatusCodes.Status200OK)
                .ProducesErrors();
            if (route == Routes[0])
                endpoint.WithName("CreateCompletion")
                    .WithSummary("Text completion of a raw prompt (string, strings, token ids)");
            else
                endpoint.ExcludeFromDescription();
        }
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, JsonBodyReader reader, CompletionServing serving)
    {
        var (body, error) = await reader.ReadAsync<CompletionRequest>(context.Request, b => b.Unknown);
        return error is not null ? error.ToResult() : await serving.HandleAsync(context, body!);
    }
}

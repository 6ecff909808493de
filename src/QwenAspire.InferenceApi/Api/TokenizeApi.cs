using QwenAspire.InferenceApi.Protocol;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Api;

public static class TokenizeApi
{
    public static IEndpointRouteBuilder MapTokenizeApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/tokenize", TokenizeAsync).WithName("Tokenize").WithTags("Tokenizer")
            .WithSummary("Token ids of a prompt, or of messages rendered with the chat template (the rendered text is returned too)")
            .Accepts<TokenizeRequest>("application/json").Produces<TokenizeResponse>().ProducesErrors();
        app.MapPost("/detokenize", DetokenizeAsync).WithName("Detokenize").WithTags("Tokenizer")
            .Accepts<DetokenizeRequest>("application/json").Produces<DetokenizeResponse>().ProducesErrors();
        return app;
    }

    private static async Task<IResult> TokenizeAsync(HttpContext context, JsonBodyReader reader, ModelRegistry registry, PromptRenderer renderer)
    {
        var (body, error) = await reader.ReadAsync<TokenizeRequest>(context.Request, b => b.Unknown);
        if (error is not null) return error.ToResult();
        if (!registry.TryGetModels(out var models, out var notReady)) return notReady!.ToResult();
        string? adapter = null;
        if (body!.Model is { } model && !models.TryResolve(model, out adapter)) return ApiError.ModelNotFound(model, models.Names).ToResult();

        if (body.Messages is not null)
        {
            if (body.Prompt is not null)
                return ApiError.BadRequest("Give either 'prompt' or 'messages', not both.", "prompt").ToResult();
            // The chat endpoint's own renderer: /tokenize shows exactly the prompt chat would run.
            if (renderer.Render(models, adapter, body.Messages, ChatPromptOptions.For(body), out var rendered) is { } rejected)
                return rejected.ToResult();
            int[] ids = models.Prompt.Encode(rendered);
            return Results.Json(new TokenizeResponse(ids, ids.Length, models.MaxContextLength) { Prompt = rendered }, ProtocolJson.Options);
        }
        if (body.Prompt is null) return ApiError.MissingField("prompt").ToResult();
        int[] tokens = models.Prompt.Encode(body.Prompt);
        return Results.Json(new TokenizeResponse(tokens, tokens.Length, models.MaxContextLength), ProtocolJson.Options);
    }

    private static async Task<IResult> DetokenizeAsync(HttpContext context, JsonBodyReader reader, ModelRegistry registry)
    {
        var (body, error) = await reader.ReadAsync<DetokenizeRequest>(context.Request, b => b.Unknown);
        if (error is not null) return error.ToResult();
        if (!registry.TryGetModels(out var models, out var notReady)) return notReady!.ToResult();
        if (body!.Model is { } model && !models.TryResolve(model, out _)) return ApiError.ModelNotFound(model, models.Names).ToResult();
        if (body.Tokens is null) return ApiError.MissingField("tokens").ToResult();
        foreach (int badId in body.Tokens.Where(t => t < 0 || t >= models.VocabSize).Take(1))
            return ApiError.BadRequest($"'tokens' has token id {badId}, outside the vocabulary [0, {models.VocabSize}).", "tokens").ToResult();
        return Results.Json(new DetokenizeResponse(models.Prompt.Decode(body.Tokens, skipSpecialTokens: false)), ProtocolJson.Options);
    }
}

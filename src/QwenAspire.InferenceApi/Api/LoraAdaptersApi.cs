using QwenAspire.InferenceApi.Protocol;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Api;

/// <summary>vLLM's runtime adapter routes; on success they answer 200 with vLLM's plain-text sentence.</summary>
public static class LoraAdaptersApi
{
    public static IEndpointRouteBuilder MapLoraAdaptersApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/load_lora_adapter", LoadAsync).WithName("LoadLoraAdapter").WithTags("Adapters")
            .WithSummary("Loads a PEFT LoRA adapter folder under engine.lora_roots and serves it as a model (engine.allow_runtime_lora)")
            .Accepts<LoadLoraAdapterRequest>("application/json").Produces<string>(StatusCodes.Status200OK, "text/plain")
            .Produces<ErrorResponse>(StatusCodes.Status403Forbidden).ProducesErrors();
        app.MapPost("/v1/unload_lora_adapter", UnloadAsync).WithName("UnloadLoraAdapter").WithTags("Adapters")
            .WithSummary("Stops serving an adapter at once; answers once its running requests have finished and its weights are freed")
            .Accepts<UnloadLoraAdapterRequest>("application/json").Produces<string>(StatusCodes.Status200OK, "text/plain")
            .Produces<ErrorResponse>(StatusCodes.Status403Forbidden).ProducesErrors();
        return app;
    }

    private static async Task<IResult> LoadAsync(HttpContext context, JsonBodyReader reader, RuntimeLoraServing serving)
    {
        if (serving.Disabled() is { } off) return off.ToResult(); // before the body: a switched-off route says so first
        var (body, error) = await reader.ReadAsync<LoadLoraAdapterRequest>(context.Request, b => b.Unknown);
        return error is not null ? error.ToResult() : await serving.LoadAsync(body!);
    }

    private static async Task<IResult> UnloadAsync(HttpContext context, JsonBodyReader reader, RuntimeLoraServing serving)
    {
        if (serving.Disabled() is { } off) return off.ToResult(); // before the body: a switched-off route says so first
        var (body, error) = await reader.ReadAsync<UnloadLoraAdapterRequest>(context.Request, b => b.Unknown);
        return error is not null ? error.ToResult() : await serving.UnloadAsync(body!);
    }
}

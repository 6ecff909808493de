using QwenAspire.InferenceApi.Protocol;
using Scalar.AspNetCore;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// The route table and the request pipeline in one place (llama.cpp's habit): exception barrier first, then
/// OpenAI-shaped 404/405, then the key check (public: /health, /alive, /scalar, /openapi), then the routes.
/// </summary>
public static class InferenceApiRoutes
{
    public static WebApplication UseInferenceApiPipeline(this WebApplication app)
    {
        app.UseMiddleware<ExceptionBarrierMiddleware>();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Response.HasStarted || http.Response.ContentLength > 0 || http.Response.ContentType is not null) return;
            var error = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => ApiError.NotFoundRoute(http.Request.Method, http.Request.Path),
                StatusCodes.Status405MethodNotAllowed => ApiError.MethodNotAllowed(http.Request.Method, http.Request.Path),
                StatusCodes.Status415UnsupportedMediaType => ApiError.UnsupportedMediaType(http.Request.ContentType),
                _ => null,
            };
            if (error is not null) await error.WriteAsync(http);
        });
        app.UseMiddleware<ApiKeyMiddleware>();
        return app;
    }

    public static WebApplication MapInferenceApi(this WebApplication app)
    {
        app.MapOpenApi();                 // /openapi/v1.json
        app.MapScalarApiReference();      // /scalar
        app.MapChatApi();                 // /v1/chat/completions (+ /chat/completions, Dify's doubled path)
        app.MapCompletionsApi();          // /v1/completions (+ /completions)
        app.MapResponsesApi();            // /v1/responses (+ /responses): the Responses API, stateless
        app.MapModelsApi();               // /v1/models, /v1/models/{id}
        app.MapTokenizeApi();             // /tokenize, /detokenize
        app.MapLoraAdaptersApi();         // /v1/load_lora_adapter, /v1/unload_lora_adapter
        return app;
    }

    public static IServiceCollection AddInferenceApiProtocol(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => ProtocolJson.Configure(o.SerializerOptions));
        services.AddOpenApi();
        services.AddSingleton<JsonBodyReader>();
        services.AddSingleton<ApiKeyStore>();
        return services;
    }
}

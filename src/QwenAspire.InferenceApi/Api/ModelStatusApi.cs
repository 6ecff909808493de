using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// <c>GET /health/model</c>: where model loading stands, as JSON, for orchestrators that show progress (the Aspire
/// AppHost turns it into the resource's state). Public like <c>/health</c>: it tells no more than the log's first
/// lines (no paths of adapters, no model names).
/// </summary>
public static class ModelStatusApi
{
    public const string Path = "/health/model";

    /// <param name="State"><c>loading</c>, <c>ready</c>, <c>failed</c> or <c>shutting_down</c>.</param>
    /// <param name="Progress">Share of the weights read (0–1) while they load, else null.</param>
    /// <param name="Detail">The loader's own words: "generating the demo model", "loading 45% (model.layers.3…)", "failed: …".</param>
    public sealed record ModelStatus(string State, double? Progress, string Detail);

    public static IEndpointRouteBuilder MapModelStatus(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (ModelRegistry host) => Results.Json(Read(host)))
            .WithName("ModelStatus").WithTags("Health")
            .WithSummary("Model loading state and progress (public; 200 in every state)")
            .Produces<ModelStatus>();
        return app;
    }

    internal static ModelStatus Read(ModelRegistry host)
    {
        string detail = host.Status;
        string state = host.ShuttingDown ? "shutting_down"
            : host.IsReady ? "ready"
            : detail.StartsWith("failed", StringComparison.Ordinal) ? "failed"
            : "loading";
        return new ModelStatus(state, state == "loading" ? host.LoadFraction : null, detail);
    }
}

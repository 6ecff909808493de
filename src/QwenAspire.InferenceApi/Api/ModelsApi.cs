using QwenAspire.InferenceApi.Protocol;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.InferenceApi.Api;

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", List).WithName("ListModels").WithTags("Models")
            .WithSummary("The base model and every LoRA adapter, by served name")
            .Produces<ModelList>().ProducesErrors();
        app.MapGet("/models", List).ExcludeFromDescription();
        // Catch-all: served names may contain '/', as Hugging Face ids do.
        app.MapGet("/v1/models/{**id}", Get).WithName("GetModel").WithTags("Models")
            .Produces<ModelCard>().ProducesErrors();
        return app;
    }

    private static IResult List(ModelRegistry host)
    {
        if (!host.TryGetModels(out var models, out var notReady)) return notReady!.ToResult();
        return Results.Json(new ModelList(Cards(models).ToList()), ProtocolJson.Options);
    }

    private static IResult Get(string id, ModelRegistry host)
    {
        if (!host.TryGetModels(out var models, out var notReady)) return notReady!.ToResult();
        var card = Cards(models).FirstOrDefault(c => c.Id == id);
        return card is null ? ApiError.ModelNotFound(id, models.Names).ToResult() : Results.Json(card, ProtocolJson.Options);
    }

    private static IEnumerable<ModelCard> Cards(ServedModels models)
    {
        if (models.BaseServed)
            yield return new ModelCard(models.BaseName, models.CreatedUnixSeconds, models.BaseName, null, models.MaxContextLength);
        foreach (var adapter in models.AdapterNames)
            yield return new ModelCard(adapter, models.CreatedUnixSeconds, models.BaseName, models.BaseName, models.MaxContextLength);
    }
}

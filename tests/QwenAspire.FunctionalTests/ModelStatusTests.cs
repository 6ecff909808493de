using System.Net;
using System.Text.Json.Nodes;
using QwenAspire.InferenceApi.Hosting;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// <c>GET /health/model</c>, what the AppHost shows as the resource's state: public, 200 in every state, "loading"
/// while the load is held (a <see cref="ModelLoadGate"/>), then "ready" with no progress figure.
/// </summary>
public sealed class ModelStatusTests
{
    [Fact]
    public async Task ReportsLoadingWhileHeldThenReadyWithoutAKey()
    {
        var gate = new ModelLoadGate();
        await using var app = await TestApp.StartAsync(services => services.AddSingleton(gate));
        using var anonymous = app.Client(key: null);

        var held = await ReadAsync(anonymous);
        Assert.Equal("loading", (string?)held["state"]);
        Assert.Null(held["progress"]);
        Assert.Equal("starting", (string?)held["detail"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await anonymous.GetAsync("/health")).StatusCode);

        gate.Open();
        await ModelServer.WaitReadyAsync(app);
        var ready = await ReadAsync(anonymous);
        Assert.Equal("ready", (string?)ready["state"]);
        Assert.Null(ready["progress"]);
        Assert.Equal("ready", (string?)ready["detail"]);
    }

    private static async Task<JsonObject> ReadAsync(HttpClient client)
    {
        var response = await client.GetAsync("/health/model");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }
}

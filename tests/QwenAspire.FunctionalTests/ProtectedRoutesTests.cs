using System.Net;
using System.Text;
using Microsoft.AspNetCore.Routing;
using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Hosting;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// Every route the server maps (read from its own endpoint table, so a route added later is covered too) plus
/// /metrics answers 401 in the OpenAI envelope without a key or with a wrong one, whatever its method wants,
/// before any body is read; only the public prefixes (health, OpenAPI, reference UI) are open. Duplicate key
/// headers cannot smuggle a key past the check, and oversized headers are refused cleanly.
/// </summary>
public sealed class ProtectedRoutesTests : IAsyncLifetime
{
    private TestApp _app = null!;

    // The model never loads: the key check must not depend on it.
    public async Task InitializeAsync() => _app = await TestApp.StartAsync(services => services.AddSingleton(new ModelLoadGate()));

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private List<(string Method, string Path)> ProtectedRoutes()
    {
        var routes = ((IEndpointRouteBuilder)_app.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (Method: m, Path: "/" + string.Join('/', e.RoutePattern.PathSegments.Select(s =>
                    string.Concat(s.Parts.Select(p => p is Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart l ? l.Content : "x")))))))
            .Where(r => !ApiKeyMiddleware.IsPublic(r.Path))
            .Append(("GET", "/metrics"))
            .Distinct()
            .ToList();
        return routes;
    }

    [Fact]
    public async Task EveryMappedRouteAndMetricsNeedAKey()
    {
        var routes = ProtectedRoutes();
        foreach (var needed in new[] { "/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/load_lora_adapter", "/v1/unload_lora_adapter", "/tokenize" })
            Assert.Contains(routes, r => r.Path == needed);
        foreach (var (key, code) in new[] { ((string?)null, "missing_api_key"), ("sk-wrong", "invalid_api_key") })
        {
            using var client = _app.Client(key);
            foreach (var (method, path) in routes)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{\"model\":\"m\"}", Encoding.UTF8, "application/json");
                var error = await ErrorEnvelope.ReadAsync(await client.SendAsync(request));
                Assert.True((HttpStatusCode.Unauthorized, code) == (error.Status, error.Code), $"{method} {path} with key {key ?? "(none)"}: {error}");
                Assert.DoesNotContain("sk-wrong", error.Message);
            }
        }
    }

    [Fact]
    public async Task AWrongKeyFirstIsNotRescuedByARightOneInADuplicateHeader()
    {
        using var client = _app.Client(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("x-api-key", ["sk-wrong", TestApp.Key]);
        var error = await ErrorEnvelope.ReadAsync(await client.SendAsync(request));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_api_key"), (error.Status, error.Code));
    }

    [Fact]
    public async Task OversizedHeadersAre431AndTheServerKeepsServing()
    {
        using var client = _app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("x-padding", new string('a', 64 * 1024)); // Kestrel's limit: 32 KiB of headers
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await client.SendAsync(request)).StatusCode);
        using var fresh = _app.Client(key: null);
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("/alive")).StatusCode);
    }
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Settings of the Prometheus scrape endpoint, section <c>Telemetry:Prometheus</c>
/// (env <c>Telemetry__Prometheus__Public=true</c> and so on).
/// </summary>
public sealed class PrometheusEndpointOptions
{
    public const string SectionName = "Telemetry:Prometheus";

    /// <summary>Serve the endpoint at all (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Path of the endpoint (default <c>/metrics</c>).</summary>
    public string Path { get; set; } = "/metrics";

    /// <summary>
    /// true: anyone who reaches the port may scrape. false (default): a scrape must send one of
    /// <see cref="ScrapeKeys"/>, or a key the app's <see cref="IScrapeKeyValidator"/> accepts, as
    /// <c>Authorization: Bearer</c> or <c>x-api-key</c>.
    /// </summary>
    public bool Public { get; set; }

    /// <summary>Keys accepted from scrapers (Prometheus <c>authorization.credentials</c>).</summary>
    public List<string> ScrapeKeys { get; set; } = [];
}

/// <summary>Lets an app (the InferenceApi) accept its own API keys on the scrape endpoint.</summary>
public interface IScrapeKeyValidator
{
    bool IsValid(string key);
}

/// <summary>
/// Puts the scrape endpoint at the very front of the pipeline, so the app's own auth middleware (API keys)
/// neither blocks a public endpoint nor decides who may scrape.
/// </summary>
internal sealed class PrometheusStartupFilter(PrometheusEndpointOptions options) : Microsoft.AspNetCore.Hosting.IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        PrometheusEndpoint.Map(app, options);
        next(app);
    };
}

internal static class PrometheusEndpoint
{
    public static PrometheusEndpointOptions Read(IConfiguration configuration)
    {
        var options = new PrometheusEndpointOptions();
        configuration.GetSection(PrometheusEndpointOptions.SectionName).Bind(options);
        if (!options.Path.StartsWith('/'))
            throw new InvalidOperationException($"{PrometheusEndpointOptions.SectionName}:Path must start with '/', got '{options.Path}'.");
        return options;
    }

    public static void Map(IApplicationBuilder app, PrometheusEndpointOptions options)
    {
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: ctx => ctx.Request.Path == options.Path,
            path: null,
            configureBranchedPipeline: options.Public ? null : branch => branch.Use(next => ctx => AuthorizeAsync(ctx, next, options)),
            optionsName: null);
    }

    private static Task AuthorizeAsync(HttpContext context, RequestDelegate next, PrometheusEndpointOptions options)
    {
        var key = ReadKey(context.Request);
        var validator = context.RequestServices.GetService<IScrapeKeyValidator>();
        if (key is not null && (options.ScrapeKeys.Any(k => FixedEquals(k, key)) || validator?.IsValid(key) == true))
            return next(context);

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        // The API's envelope: all four keys (param null), missing_api_key vs invalid_api_key as on every other route.
        return context.Response.WriteAsJsonAsync(new
        {
            error = new
            {
                message = key is null
                    ? $"The metrics endpoint needs a key (Authorization: Bearer or x-api-key); set {PrometheusEndpointOptions.SectionName}:Public=true to serve it without one."
                    : "Incorrect API key provided for the metrics endpoint.",
                type = "invalid_request_error",
                param = (string?)null,
                code = key is null ? "missing_api_key" : "invalid_api_key",
            },
        }, s_envelopeJson);
    }

    private static readonly System.Text.Json.JsonSerializerOptions s_envelopeJson = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never,
    };

    private static string? ReadKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue("x-api-key", out var apiKey) && !string.IsNullOrEmpty(apiKey))
            return apiKey.ToString();
        var auth = request.Headers.Authorization.ToString();
        return auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth["Bearer ".Length..].Trim() : null;
    }

    private static bool FixedEquals(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(actual));
}

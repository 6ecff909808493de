using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

namespace QwenAspire.AppHost.Tests;

/// <summary>ServiceDefaults' scrape endpoint on a real Kestrel on loopback, fed by the inference meter.</summary>
public sealed class PrometheusEndpointTests
{
    private static async Task<(WebApplication App, HttpClient Http)> StartAsync(params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        builder.AddServiceDefaults();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return (app, http);
    }

    [Fact]
    public async Task PublicEndpointServesTheInferenceMeter()
    {
        var (app, http) = await StartAsync(("Telemetry:Prometheus:Public", "true"));
        await using var _ = app;
        using var meter = new Meter(TelemetryNames.InferenceMeter);
        var requests = meter.CreateCounter<long>("qwen.requests");
        requests.Add(3);

        var text = "";
        for (var attempt = 0; attempt < 20 && !text.Contains("qwen_requests"); attempt++)
        {
            text = await http.GetStringAsync("/metrics");
            if (!text.Contains("qwen_requests"))
                await Task.Delay(250);
        }

        Assert.Contains("qwen_requests_total", text);
        Assert.Contains(" 3", text.Split('\n').First(l => l.StartsWith("qwen_requests_total")));
    }

    [Fact]
    public async Task ProtectedEndpointNeedsAScrapeKey()
    {
        var (app, http) = await StartAsync(("Telemetry:Prometheus:ScrapeKeys:0", "scrape-secret"));
        await using var _ = app;

        using var anonymous = await http.GetAsync("/metrics");
        using var wrong = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { { "x-api-key", "nope" } } });
        using var bearer = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { { "Authorization", "Bearer scrape-secret" } } });

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("Telemetry:Prometheus:Public", await anonymous.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }

    [Fact]
    public async Task DisabledEndpointIsNotServed()
    {
        var (app, http) = await StartAsync(("Telemetry:Prometheus:Enabled", "false"));
        await using var _ = app;

        using var response = await http.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.AI;
using QwenAspire.Sdk;

namespace QwenAspire.AppHost.Tests;

/// <summary>
/// The real AppHost (DCP from NuGet, no Docker) starting the InferenceApi with its generated demo model;
/// chat through the SDK, then the API's own metrics. Needs the real InferenceApi (issue 4) on the branch.
/// </summary>
public sealed class AppHostLiveTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private const string DevelopmentApiKey = "sk-qwen3-1.7b-local-dev-key-12345";

    [Fact]
    public async Task AppHostServesChatThroughTheSdkAndExportsInferenceMetrics()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.QwenAspire_AppHost>(
            ["--Parameters:api-key=sk-apphost-test"], cts.Token);
        var api = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "inferenceapi");
        // Let the test scrape the API's Prometheus endpoint without a key.
        api.Annotations.Add(new EnvironmentCallbackAnnotation(e => e.EnvironmentVariables["Telemetry__Prometheus__Public"] = "true"));

        await using var app = await builder.BuildAsync(cts.Token);
        await app.StartAsync(cts.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("inferenceapi", cts.Token);

        var endpoint = app.GetEndpoint("inferenceapi", "http");
        using var client = new QwenChatClient(new QwenClientOptions { Endpoint = endpoint, ApiKey = "sk-apphost-test", Timeout = TimeSpan.FromMinutes(2) });
        var options = new ChatOptions { MaxOutputTokens = 8, Temperature = 0 };

        var response = await client.GetResponseAsync("Say hello.", options, cts.Token);
        Assert.NotNull(response.FinishReason);
        Assert.True(response.Usage?.OutputTokenCount > 0);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Say hello.", options, cts.Token))
            updates.Add(update);
        Assert.Contains(updates, u => u.FinishReason is not null);
        Assert.Equal(response.Usage?.OutputTokenCount, updates.ToChatResponse().Usage?.OutputTokenCount);

        // The api-key parameter replaced the public development key: that one is refused now.
        using var defaultKey = new QwenChatClient(new QwenClientOptions { Endpoint = endpoint, ApiKey = DevelopmentApiKey, Model = response.ModelId });
        var ex = await Assert.ThrowsAsync<QwenApiException>(() => defaultKey.GetResponseAsync("hi", cancellationToken: cts.Token));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, ex.StatusCode);

        using var http = new HttpClient { BaseAddress = endpoint };
        var metrics = await http.GetStringAsync("/metrics", cts.Token);
        Assert.Contains("http_server_request_duration", metrics);
        // The engine's QwenAspire.Inference meter (src/QwenAspire.Engine/Diagnostics/InferenceMetrics.cs),
        // registered by ServiceDefaults, reached the exporter with our requests counted.
        Assert.Matches(@"(?m)^qwenaspire_requests_total(\{.*\})? [1-9]", metrics);
        Assert.Matches(@"(?m)^qwenaspire_tokens_generated_total(\{.*\})? [1-9]", metrics);
        Assert.Contains("qwenaspire_time_to_first_token", metrics);
    }
}

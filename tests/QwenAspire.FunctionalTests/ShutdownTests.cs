using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// SIGTERM with streams in flight: each stream ends with a finish chunk and [DONE] within server.shutdown_timeout
/// (plus the write-out grace), new requests get 503 with the envelope, and the process exits 0.
/// </summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    private const int ShutdownTimeoutSeconds = 2;

    private static HttpRequestMessage LongStream() => new(HttpMethod.Post, "/v1/chat/completions")
    {
        Content = ModelServer.Json(new
        {
            model = ModelServer.Model, stream = true, max_tokens = 100_000, ignore_eos = true,
            messages = new[] { new { role = "user", content = "go on forever" } }
        }),
    };

    [Fact]
    public async Task ShutdownEndsStreamsWithFinishAndDoneAndRefusesNewRequestsWith503()
    {
        await using var app = await TestApp.StartAsync("--Model:demo_directory=" + ModelServer.DemoDirectory,
            $"--server:shutdown_timeout={ShutdownTimeoutSeconds}");
        await ModelServer.WaitReadyAsync(app);
        using var client = app.Client();
        var streams = new List<HttpResponseMessage>();
        for (int i = 0; i < 3; i++)
        {
            var response = await client.SendAsync(LongStream(), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            streams.Add(response);
        }

        // What the host's ApplicationStopping callback does on SIGTERM, without stopping Kestrel yet, so the
        // requests that still reach the server can be checked.
        var clock = Stopwatch.StartNew();
        app.App.Services.GetRequiredService<QwenAspire.InferenceApi.Serving.ModelRegistry>().BeginShutdown();

        using var fresh = app.Client();
        var refused = await fresh.SendAsync(LongStream());
        Assert.NotNull(refused.Headers.RetryAfter);
        var error = await ErrorEnvelope.ReadAsync(refused);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "server_shutting_down"), (error.Status, error.Code));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await fresh.GetAsync("/health")).StatusCode);

        foreach (var response in streams)
        {
            var (events, sawDone) = await ModelServer.ReadStreamLikeDifyAsync(response).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(sawDone, "stream ended without [DONE]");
            AssertFinished(events);
        }
        output.WriteLine($"3 streams drained {clock.Elapsed.TotalSeconds:0.00} s after shutdown began (timeout {ShutdownTimeoutSeconds} s)");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 30), $"drain took {clock.Elapsed}");
    }

    /// <summary>The real thing: the built server as a child process, sent SIGTERM while streaming.</summary>
    [Fact]
    public async Task SigtermDrainsStreamsAndExitsZero()
    {
        if (OperatingSystem.IsWindows()) return; // no SIGTERM there; Linux CI runs it
        using var server = ServerProcess.Start(output, "--Model:demo_directory=" + ModelServer.DemoDirectory,
            $"--server:shutdown_timeout={ShutdownTimeoutSeconds}");
        Uri address = await server.WaitListeningAsync(TimeSpan.FromMinutes(2));
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add("x-api-key", TestApp.Key);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while ((await client.GetAsync("/health")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "server did not become ready");
            await Task.Delay(200);
        }
        var streams = new List<HttpResponseMessage>();
        for (int i = 0; i < 3; i++)
            streams.Add(await client.SendAsync(LongStream(), HttpCompletionOption.ResponseHeadersRead));
        var reads = streams.Select(ModelServer.ReadStreamLikeDifyAsync).ToArray();

        var clock = Stopwatch.StartNew();
        server.Terminate();
        foreach (var read in reads)
        {
            var (events, sawDone) = await read.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(sawDone, "stream ended without [DONE]");
            AssertFinished(events);
        }
        double drained = clock.Elapsed.TotalSeconds;
        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"SIGTERM: 3 streams ended {drained:0.00} s after the signal, process exited after {clock.Elapsed.TotalSeconds:0.00} s");
        Assert.Equal(0, exitCode);
        Assert.True(drained < ShutdownTimeoutSeconds + QwenAspire.InferenceApi.Hosting.GracefulShutdown.HostGrace.TotalSeconds,
            $"streams took {drained:0.00} s to end");
        string afterSignal = server.Output[server.Output.IndexOf("Application is shutting down", StringComparison.Ordinal)..];
        Assert.DoesNotContain("fail:", afterSignal);
        Assert.DoesNotContain("crit:", afterSignal);
        Assert.DoesNotContain("   at ", afterSignal);
    }

    private static void AssertFinished(List<JsonObject> events)
    {
        var finishes = events.Where(e => e["choices"] is JsonArray { Count: > 0 } c && c[0]!["finish_reason"] is not null).ToList();
        Assert.Single(finishes);
        Assert.Same(finishes[0], events.Last(e => e["choices"] is JsonArray { Count: > 0 }));
        Assert.Contains(finishes[0]["choices"]![0]!["finish_reason"]!.GetValue<string>(), new[] { "abort", "length" });
    }
}

using System.Net;

namespace QwenAspire.FunctionalTests;

/// <summary>Start-up order (HTTP before the model) and back-pressure, each on its own server.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task HealthIs503WhileLoadingThen200()
    {
        var gate = new QwenAspire.InferenceApi.Hosting.ModelLoadGate();
        var app = Program.CreateApp(["--host", "127.0.0.1", "--port", "0", "--api-key", TestApp.Key, "--Model:demo_directory=" + ModelServer.DemoDirectory],
            services => services.AddSingleton(gate));
        await app.StartAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
            client.DefaultRequestHeaders.Add("x-api-key", TestApp.Key);
            var notReady = await client.GetAsync("/v1/models");
            Assert.NotNull(notReady.Headers.RetryAfter);
            var error = await ErrorEnvelope.ReadAsync(notReady);
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "model_not_ready"), (error.Status, error.Code));

            gate.Open();
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while ((await client.GetAsync("/health")).StatusCode != HttpStatusCode.OK)
            {
                Assert.True(DateTime.UtcNow < deadline);
                await Task.Delay(100);
            }
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task FullQueueIs429WithRetryAfterAndOthersAreUndisturbed()
    {
        await using var app = await TestApp.StartAsync("--Model:demo_directory=" + ModelServer.DemoDirectory,
            "--engine:max_queue_length=1", "--engine:max_running_sequences=1");
        await ModelServer.WaitReadyAsync(app);
        using var client = app.Client();
        using var cts = new CancellationTokenSource();
        // One runs, one waits in the queue, the rest must be refused at once (headers only come with the first token,
        // so the requests are sent concurrently rather than one after another).
        var pending = new List<Task<HttpResponseMessage>>();
        for (int i = 0; i < 4; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = ModelServer.Json(new
                {
                    model = ModelServer.Model, stream = true, max_tokens = 4000, ignore_eos = true,
                    messages = new[] { new { role = "user", content = "go" } }
                }),
            };
            pending.Add(client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token));
            await Task.Delay(100);
        }
        HttpResponseMessage? refused = null;
        var waiting = pending.ToList();
        while (refused is null && waiting.Count > 0)
        {
            var done = await Task.WhenAny(waiting).WaitAsync(TimeSpan.FromSeconds(60));
            waiting.Remove(done);
            var response = await done;
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.NotNull(refused);
        Assert.NotNull(refused.Headers.RetryAfter);
        var error = await ErrorEnvelope.ReadAsync(refused);
        Assert.Equal("queue_full", error.Code);
        await cts.CancelAsync(); // the streams still running are abandoned: the engine frees them
        foreach (var task in pending.Where(t => t.IsCompletedSuccessfully)) (await task).Dispose();
    }
}

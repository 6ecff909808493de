using Microsoft.Extensions.Logging;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.FunctionalTests.Quirks;

/// <summary>
/// A newcomer's first run: while the model loads, /health polls answer 503 without a <c>fail:</c> line, each
/// request is at most one line (ASP.NET's per-request lines are off by default), loading is shown as progress.
/// </summary>
public sealed class QuietLoggingTests
{
    [Fact]
    public async Task LoadingAndHealthPollsLogNoErrorsAndARequestLogsOneLine()
    {
        var logs = new LogCapture();
        var gate = new ModelLoadGate();
        await using var app = await TestApp.StartAsync(services =>
        {
            services.AddSingleton(gate);
            services.AddSingleton<ILoggerProvider>(logs);
        }, "--Model:demo_directory=" + ModelServer.DemoDirectory);
        using var client = app.Client(key: null);
        for (int i = 0; i < 3; i++)
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health")).StatusCode);
        gate.Open();
        await ModelServer.WaitReadyAsync(app);

        using var keyed = app.Client();
        var response = await keyed.PostAsync("/v1/chat/completions", ModelServer.Json(
            $$"""{"model": "{{ModelServer.Model}}", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}"""));
        response.EnsureSuccessStatusCode();
        await app.App.StopAsync();

        var entries = logs.Entries.ToList();
        Assert.DoesNotContain(entries, e => e.Level >= LogLevel.Error);
        Assert.DoesNotContain(entries, e => e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) && e.Level < LogLevel.Warning);
        Assert.Single(entries, e => e.Category == typeof(ServingPipeline).FullName && e.Message.StartsWith("chat " + ModelServer.Model, StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Category == typeof(ModelLoadingService).FullName && e.Message.StartsWith("Model loading", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Message.StartsWith("Ready: serving " + ModelServer.Model, StringComparison.Ordinal));
    }
}

using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Hosting;

namespace QwenAspire.FunctionalTests;

/// <summary>Unknown request fields are ignored and logged once per name, and the set of names logged stays bounded.</summary>
public sealed class UnknownFieldLogTests
{
    private static async Task<(TestApp App, ConcurrentQueue<string> Messages)> StartAsync()
    {
        var messages = new ConcurrentQueue<string>();
        var app = await TestApp.StartAsync(services =>
        {
            services.AddSingleton(new ModelLoadGate()); // no model needed: bodies are read before readiness is checked
            services.AddSingleton<ILoggerProvider>(new CapturingProvider(messages));
        });
        return (app, messages);
    }

    private static int UnknownFieldLines(ConcurrentQueue<string> messages) =>
        messages.Count(m => m.StartsWith("Ignoring unknown request field", StringComparison.Ordinal));

    [Fact]
    public async Task AnUnknownFieldIsLoggedOnceAcrossRequestsAndRoutes()
    {
        var (app, messages) = await StartAsync();
        await using var _ = app;
        using var client = app.Client();
        foreach (var path in ChatApi.Routes.Concat(ChatApi.Routes))
            await client.PostAsync(path, ModelServer.Json("""{"model":"m","messages":[{"role":"user","content":"x"}],"frobnicate":1}"""));
        Assert.Equal(1, UnknownFieldLines(messages));
    }

    [Fact]
    public async Task ClientChosenFieldNamesDoNotGrowTheLogWithoutBound()
    {
        var (app, messages) = await StartAsync();
        await using var _ = app;
        using var client = app.Client();
        var body = new JsonObject { ["model"] = "m", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "x" }) };
        for (int i = 0; i < JsonBodyReader.MaxReportedUnknownFields + 200; i++) body[$"field_{i}"] = i;
        await client.PostAsync("/v1/chat/completions", ModelServer.Json(body.ToJsonString()));
        Assert.Equal(JsonBodyReader.MaxReportedUnknownFields, UnknownFieldLines(messages));
    }

    private sealed class CapturingProvider(ConcurrentQueue<string> messages) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName == typeof(JsonBodyReader).FullName ? new Capture(messages) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class Capture(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using QwenAspire.InferenceApi.Hosting;

namespace QwenAspire.FunctionalTests;

/// <summary>HTTP-level faults answered with a status the client can read and the OpenAI envelope, never a 500 or a reset.</summary>
public sealed class HttpFaultTests
{
    private const int Limit = 1024 * 1024;
    private const string Chat = """{"model":"m","messages":[{"role":"user","content":"x"}]}""";

    /// <summary>No model needed: bodies, content types and keys are checked before readiness.</summary>
    private static Task<TestApp> StartWithoutModelAsync(LogCapture? logs = null) => TestApp.StartAsync(services =>
    {
        services.AddSingleton(new ModelLoadGate());
        if (logs is not null) services.AddSingleton<ILoggerProvider>(logs);
    }, $"--server:max_request_body_bytes={Limit}");

    private static ErrorEnvelope Envelope(int status, string body)
    {
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("error");
        foreach (var key in new[] { "message", "type", "param", "code" })
            Assert.True(error.TryGetProperty(key, out _), $"error.{key} missing in {body}");
        return new ErrorEnvelope((HttpStatusCode)status, error.GetProperty("message").GetString()!, error.GetProperty("type").GetString()!,
            error.GetProperty("param").GetString(), error.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task NonJsonContentTypeIs415WithTheEnvelope(string contentType)
    {
        await using var app = await StartWithoutModelAsync();
        using var client = app.Client();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Chat));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions", content));
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"), (error.Status, error.Code));
    }

    [Fact]
    public async Task MetricsWithoutAKeySaysMissingAndWithAWrongKeyInvalidBothWithParam()
    {
        await using var app = await StartWithoutModelAsync();
        using var anonymous = app.Client(key: null);
        var missing = await ErrorEnvelope.ReadAsync(await anonymous.GetAsync("/metrics")); // checks param is present
        Assert.Equal((HttpStatusCode.Unauthorized, "missing_api_key", "invalid_request_error"), (missing.Status, missing.Code, missing.Type));
        using var wrong = app.Client(key: "sk-wrong");
        var invalid = await ErrorEnvelope.ReadAsync(await wrong.GetAsync("/metrics"));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_api_key"), (invalid.Status, invalid.Code));
    }

    [Fact]
    public async Task ASlowTenMegabyteUploadWithContentLengthReadsTheWhole413()
    {
        await using var app = await StartWithoutModelAsync();
        await using var raw = await RawHttp.ConnectAsync(app.BaseAddress);
        const int total = 10 * 1000 * 1000;
        await raw.SendHeadAsync("POST", "/v1/chat/completions", "Content-Type: application/json", $"Content-Length: {total}");
        var piece = new byte[64 * 1024];
        Array.Fill(piece, (byte)' ');
        for (int sent = 0; sent < total; sent += piece.Length)
        {
            await raw.SendAsync(piece.AsMemory(0, Math.Min(piece.Length, total - sent))); // throws on EPIPE / reset
            await Task.Delay(2);
        }
        var (status, _, body) = await raw.ReadResponseAsync(TimeSpan.FromSeconds(60));
        var error = Envelope(status, body);
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "request_too_large"), (error.Status, error.Code));
        Assert.Contains(Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);

        // The body was read to its end, so the same connection still answers.
        await raw.SendHeadAsync("GET", "/v1/models");
        Assert.Equal(503, (await raw.ReadResponseAsync(TimeSpan.FromSeconds(30))).Status); // model held back by the gate
    }

    [Fact]
    public async Task AnOversizedChunkedUploadReadsThe413()
    {
        await using var app = await StartWithoutModelAsync();
        await using var raw = await RawHttp.ConnectAsync(app.BaseAddress);
        await raw.SendHeadAsync("POST", "/v1/chat/completions", "Content-Type: application/json", "Transfer-Encoding: chunked");
        var piece = Encoding.ASCII.GetBytes("10000\r\n" + new string(' ', 0x10000) + "\r\n");
        for (int i = 0; i < 160; i++) await raw.SendAsync(piece);
        await raw.SendAsync("0\r\n\r\n"u8.ToArray());
        var (status, _, body) = await raw.ReadResponseAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "request_too_large"), (Envelope(status, body).Status, Envelope(status, body).Code));
    }

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFFFFFFFFF")] // overflows a long: Kestrel's IOException "Bad chunk size data"
    [InlineData("zz")]
    public async Task ABrokenChunkSizeIs400Not500(string chunkSize)
    {
        await using var app = await StartWithoutModelAsync();
        await using var raw = await RawHttp.ConnectAsync(app.BaseAddress);
        await raw.SendHeadAsync("POST", "/v1/chat/completions", "Content-Type: application/json", "Transfer-Encoding: chunked");
        await raw.SendAsync(Encoding.ASCII.GetBytes($"{chunkSize}\r\n{Chat}\r\n0\r\n\r\n"));
        var (status, _, body) = await raw.ReadResponseAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.BadRequest, Envelope(status, body).Status);
    }

    [Fact]
    public async Task MoreChoicesThanTheQueueHoldsIs400NotARetryable429()
    {
        await using var app = await TestApp.StartAsync("--Model:demo_directory=" + ModelServer.DemoDirectory, "--engine:max_queue_length=2");
        await ModelServer.WaitReadyAsync(app);
        using var client = app.Client();
        object Body(int n) => new { model = ModelServer.Model, n, max_tokens = 1, messages = new[] { new { role = "user", content = "hi" } } };
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions", ModelServer.Json(Body(3))));
        Assert.Equal((HttpStatusCode.BadRequest, "n"), (error.Status, error.Param));
        var completion = await client.PostAsync("/v1/completions", ModelServer.Json(new { model = ModelServer.Model, n = 2, max_tokens = 1, prompt = new[] { "a", "b" } }));
        Assert.Equal((HttpStatusCode.BadRequest, "n"), ((await ErrorEnvelope.ReadAsync(completion)).Status, (await ErrorEnvelope.ReadAsync(completion)).Param));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", ModelServer.Json(Body(2)))).StatusCode);
    }

    [Fact]
    public async Task ClientResetsMidBodyAndMidStreamLogNoErrors()
    {
        var logs = new LogCapture();
        await using var app = await TestApp.StartAsync(services => services.AddSingleton<ILoggerProvider>(logs),
            "--Model:demo_directory=" + ModelServer.DemoDirectory);
        await ModelServer.WaitReadyAsync(app);

        await using (var raw = await RawHttp.ConnectAsync(app.BaseAddress))
        {
            await raw.SendHeadAsync("POST", "/v1/chat/completions", "Content-Type: application/json", "Content-Length: 100000");
            await raw.SendAsync(Encoding.UTF8.GetBytes(Chat[..20]));
            await Task.Delay(200);
            raw.Reset();
        }
        for (int i = 0; i < 5; i++)
        {
            await using var raw = await RawHttp.ConnectAsync(app.BaseAddress);
            string body = JsonSerializer.Serialize(new
            {
                model = ModelServer.Model, stream = true, max_tokens = 100_000, ignore_eos = true,
                messages = new[] { new { role = "user", content = "go" } }
            });
            await raw.SendHeadAsync("POST", "/v1/chat/completions", "Content-Type: application/json", $"Content-Length: {Encoding.UTF8.GetByteCount(body)}");
            await raw.SendAsync(Encoding.UTF8.GetBytes(body));
            await Task.Delay(300 + 100 * i);
            raw.Reset();
        }
        await Task.Delay(1000); // the server notices the resets on its next write
        using var client = app.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", ModelServer.Json(new
        {
            model = ModelServer.Model, max_tokens = 2,
            messages = new[] { new { role = "user", content = "still there?" } }
        }))).StatusCode);
        // No fail/crit, and no stack trace at info or above (the health probe's "Unhealthy" while loading is not ours).
        var loud = logs.Entries.Where(e => (e.Level >= LogLevel.Error || e.Level >= LogLevel.Information && e.Exception is not null)
                                           && !e.Category.Contains("HealthCheck", StringComparison.Ordinal)).ToList();
        Assert.True(loud.Count == 0, string.Join("\n", loud.Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception}")));
    }
}

/// <summary>Every log entry of the server, for tests that check what is (not) logged.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception);

    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyCollection<Entry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), exception));
    }
}

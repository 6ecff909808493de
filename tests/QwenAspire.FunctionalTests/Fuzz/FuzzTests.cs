using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace QwenAspire.FunctionalTests.Fuzz;

/// <summary>
/// The short CI form of the fuzz run: <see cref="Requests"/> generated hostile requests (8 at a time) against the demo
/// model. No 5xx but 503, every error in the OpenAI envelope, no hang, and the server still answers afterwards.
/// FUZZ_REQUESTS and FUZZ_SEED run a longer or different pass locally.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private static int Requests => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_REQUESTS"), out int n) ? n : 1500;
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out int s) ? s : 12;

    /// <summary>
    /// Kestrel refuses these before the application runs, with an empty body (no envelope possible): headers too
    /// large (431), a request line too long (414), a NUL in the path (400).
    /// </summary>
    private static bool RefusedByKestrel(int status, string path, string body) =>
        body.Length == 0 && (status is 414 or 431 || status == 400 && path.Contains("%00", StringComparison.Ordinal));

    [Fact]
    public async Task HostileRequestsGetEnvelopedClientErrorsAndTheServerKeepsServing()
    {
        // A small KV pool (1 MiB: ~1,000 tokens) keeps the generations that do get through short, and exercises preemption.
        var logs = new LogCapture();
        await using var app = await TestApp.StartAsync(services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs),
            "--Model:demo_directory=" + ModelServer.DemoDirectory,
            "--engine:kv_cache_memory=1MiB", "--generation:max_tokens=8");
        await ModelServer.WaitReadyAsync(app);
        using var http = app.Client();
        var cases = new FuzzCases(Seed, ModelServer.Model);
        var batch = Enumerable.Range(0, Requests).Select(_ => cases.Next()).ToList();

        var statuses = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, _) =>
        {
            string outcome = await SendAsync(http, c, failures);
            statuses.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        });
        clock.Stop();

        using var after = await http.PostAsync("/v1/chat/completions", ModelServer.Json(new
        {
            model = ModelServer.Model, max_tokens = 3,
            messages = new[] { new { role = "user", content = "still fine?" } }
        }));
        string afterBody = await after.Content.ReadAsStringAsync();
        Assert.True(after.StatusCode == HttpStatusCode.OK, afterBody);
        Assert.NotNull(JsonNode.Parse(afterBody)!["choices"]![0]!["message"]);

        output.WriteLine($"fuzz: {batch.Count} requests (seed {Seed}) in {clock.Elapsed.TotalSeconds:0.0} s, {Environment.ProcessorCount} CPUs, " +
                         $"load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        output.WriteLine("status histogram: " + string.Join(", ", statuses.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}")));
        output.WriteLine("kinds: " + string.Join(", ", batch.GroupBy(c => c.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}")));
        Assert.True(failures.IsEmpty, $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(20)));
        // Hostile input is the client's problem: nothing the server logs about it is an error (the health probe's
        // "Unhealthy" while the model loads is not about a request).
        var errors = logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error && !e.Category.Contains("HealthCheck", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(10).Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception}")));
    }

    private static async Task<string> SendAsync(HttpClient http, FuzzCase c, ConcurrentQueue<string> failures)
    {
        using var request = new HttpRequestMessage(c.Method, c.Path);
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(c.Body);
            if (c.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
        }
        foreach (var (name, value) in c.Headers)
        {
            if (name == "Authorization") request.Headers.Authorization = null;
            if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        string what = $"{c.Kind} {c.Method} {c.Path[..Math.Min(c.Path.Length, 80)]}";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            int status = (int)response.StatusCode;
            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                // Streams are read for a moment and then dropped: a client going away is part of the hostility.
                using var peek = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
                peek.CancelAfter(TimeSpan.FromMilliseconds(300));
                try
                {
                    await response.Content.ReadAsStringAsync(peek.Token);
                }
                catch (OperationCanceledException) when (!timeout.IsCancellationRequested)
                {
                }
                return status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            string body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (RefusedByKestrel(status, c.Path, body)) return $"{status} (kestrel)";
            if (status >= 500 && status != 503)
                failures.Enqueue($"{status} for {what}: {Snippet(body)}");
            if (status >= 400 && !IsEnvelope(body) && !c.Path.StartsWith("/health", StringComparison.Ordinal))
                failures.Enqueue($"{status} without the envelope for {what}: {Snippet(body)}");
            return status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            failures.Enqueue($"no answer within 60 s (hang) for {what}: {Snippet(System.Text.Encoding.UTF8.GetString(c.Body ?? []))}");
            return "hang";
        }
        catch (HttpRequestException ex)
        {
            failures.Enqueue($"transport error for {what}: {ex.Message}");
            return "transport-error";
        }
    }

    private static bool IsEnvelope(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object
                   && new[] { "message", "type", "param", "code" }.All(k => e.TryGetProperty(k, out _))
                   && !body.Contains("   at ", StringComparison.Ordinal);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Snippet(string body) => body.Length <= 300 ? body : body[..300] + "…";
}

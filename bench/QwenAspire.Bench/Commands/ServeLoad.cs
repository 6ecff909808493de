using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.Bench.Commands;

/// <summary>What one streamed request measured. Times are milliseconds from sending the request.</summary>
internal sealed record RequestTiming(double TtftMs, IReadOnlyList<double> GapsMs, int CompletionTokens, int TokenChunks, string? FinishReason);

/// <summary>
/// One chat request of a load: the served model name (base or adapter), an optional system message (the
/// shared prefix scenario), the user prompt, and extra body fields (llama-server's per-request "lora").
/// </summary>
internal sealed record ServeRequest(string Model, string? System, string User, JsonObject? Extra = null);

/// <summary>What one concurrency level measured.</summary>
internal sealed record LevelResult(int Concurrency, IReadOnlyList<RequestTiming> Requests, double WallSeconds)
{
    public int Tokens => Requests.Sum(r => r.CompletionTokens);
    public double AggregateTokensPerSecond => Tokens / WallSeconds;
    public double TtftMedianMs => Median(Requests.Select(r => r.TtftMs));
    public double InterTokenMedianMs => Median(Requests.SelectMany(r => r.GapsMs));

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>
/// The load of ANCHORS.md's llama-server measurement: C workers, each sending N streaming chat requests back
/// to back over a fresh connection per request; temperature 0, <c>ignore_eos</c> so every request generates
/// exactly max_tokens. TTFT is the arrival of the first chunk carrying generated text (our server sends an
/// empty role chunk first, which does not count); inter-token gaps are between later text-carrying chunks.
/// </summary>
internal sealed class ServeLoad(Uri baseUrl, string apiKey, int maxTokens, TimeSpan requestTimeout)
{
    public int MaxTokens => maxTokens;

    public async Task<LevelResult> RunLevelAsync(int concurrency, int requestsPerWorker, Func<int, ServeRequest> prompt, int firstPrompt, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var timings = new List<RequestTiming>();
            for (int i = 0; i < requestsPerWorker; i++)
                timings.Add(await StreamOneAsync(prompt(firstPrompt + worker * requestsPerWorker + i), maxTokens, ct));
            return timings;
        }).ToArray();
        var all = await Task.WhenAll(workers);
        return new LevelResult(concurrency, all.SelectMany(t => t).ToList(), clock.Elapsed.TotalSeconds);
    }

    public async Task<RequestTiming> StreamOneAsync(ServeRequest prompt, int tokens, CancellationToken ct)
    {
        // A new handler per request: one TCP connection each, as with the llama-server measurement.
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero };
        using var client = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = Timeout.InfiniteTimeSpan };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(requestTimeout);

        var messages = new JsonArray();
        if (prompt.System is not null) messages.Add(new JsonObject { ["role"] = "system", ["content"] = prompt.System });
        messages.Add(new JsonObject { ["role"] = "user", ["content"] = prompt.User });
        var body = new JsonObject
        {
            ["model"] = prompt.Model,
            ["messages"] = messages,
            ["max_tokens"] = tokens,
            ["temperature"] = 0,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
            ["ignore_eos"] = true,
        };
        foreach (var (key, value) in prompt.Extra ?? []) body[key] = value?.DeepClone();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.ConnectionClose = true;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"POST /v1/chat/completions answered {(int)response.StatusCode}: {Shorten(await response.Content.ReadAsStringAsync(timeout.Token))}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token), Encoding.UTF8);
            return await ReadStreamAsync(reader, clock, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"a streaming request did not finish within {requestTimeout.TotalSeconds:0} s (--request-timeout).");
        }
    }

    private static async Task<RequestTiming> ReadStreamAsync(StreamReader reader, Stopwatch clock, CancellationToken ct)
    {
        double? first = null, last = null;
        var gaps = new List<double>();
        int chunks = 0, usageTokens = -1;
        string? finish = null;
        bool done = false;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            double now = clock.Elapsed.TotalMilliseconds;
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;   // blank separators, ": keep-alive"
            string data = line[5..].Trim();
            if (data == "[DONE]") { done = true; break; }

            var node = JsonNode.Parse(data)?.AsObject() ?? throw new InvalidDataException($"SSE event is not a JSON object: {Shorten(data)}");
            if (node["error"] is { } error)
                throw new HttpRequestException($"the server sent an error event mid-stream: {Shorten(error.ToJsonString())}");
            if (node["usage"] is JsonObject usage && usage["completion_tokens"] is { } completion)
                usageTokens = completion.GetValue<int>();
            if (node["choices"] is not JsonArray { Count: > 0 } choices || choices[0] is not JsonObject choice) continue;
            finish = (string?)choice["finish_reason"] ?? finish;
            if (!CarriesText(choice["delta"] as JsonObject)) continue;

            chunks++;
            if (first is null) first = now;
            else gaps.Add(now - last!.Value);
            last = now;
        }
        if (!done) throw new InvalidDataException("the stream ended without 'data: [DONE]'.");
        if (first is null) throw new InvalidDataException("the stream carried no generated text.");
        // Without include_usage support, every text chunk is taken for one token.
        return new RequestTiming(first.Value, gaps, usageTokens >= 0 ? usageTokens : chunks, chunks, finish);
    }

    private static bool CarriesText(JsonObject? delta) =>
        delta is not null && (NonEmpty(delta["content"]) || NonEmpty(delta["reasoning_content"]) || NonEmpty(delta["reasoning"])
                              || delta["tool_calls"] is JsonArray { Count: > 0 });

    private static bool NonEmpty(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>().Length > 0;

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace QwenAspire.Bench.Commands;

/// <summary>How one checked stream ended.</summary>
internal enum StreamVerdict { Ok, Lost, Garbled, Crossed, Cut }

internal sealed record StreamOutcome(StreamVerdict Verdict, string? Id, int Tokens, string Detail = "");

/// <summary>
/// bench-load's client: greedy <c>/v1/completions</c> (ignore_eos, so every request generates exactly max_tokens)
/// over pooled connections, with every stream checked for its framing (one id, one finish_reason, exactly one
/// [DONE] and nothing after it) and its text against what the same request gave alone.
/// </summary>
internal sealed partial class LoadClient(Uri baseUrl, string apiKey, string model) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 })
    {
        BaseAddress = baseUrl,
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", apiKey) },
    };

    public static async Task<string> FirstModelAsync(Uri baseUrl, string apiKey)
    {
        using var client = new LoadClient(baseUrl, apiKey, "");
        string body = await client._http.GetStringAsync("v1/models");
        return (string)JsonNode.Parse(body)!["data"]![0]!["id"]!;
    }

    public StringContent Body(string prompt, int tokens, bool stream) => new(JsonSerializer.Serialize(new
    {
        model, prompt, stream, max_tokens = tokens, temperature = 0, ignore_eos = true,
    }), Encoding.UTF8, "application/json");

    public Task<HttpResponseMessage> PostAsync(string prompt, int tokens, bool stream, CancellationToken ct) =>
        _http.PostAsync("v1/completions", Body(prompt, tokens, stream), ct);

    /// <summary>The text of a non-streamed request (throws on anything but 200 with finish_reason length).</summary>
    public async Task<string> CompleteAsync(string prompt, int tokens, CancellationToken ct)
    {
        using var response = await PostAsync(prompt, tokens, stream: false, ct);
        string body = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{(int)response.StatusCode}: {body}");
        var choice = JsonNode.Parse(body)!["choices"]![0]!;
        if ((string?)choice["finish_reason"] != "length") throw new InvalidOperationException("finish_reason is not length: " + body);
        return (string)choice["text"]!;
    }

    /// <summary>
    /// One stream, checked against <paramref name="expected"/>. With <paramref name="cutAfterEvents"/> the client
    /// drops the connection after that many events (-1: right after sending), and the outcome is Cut.
    /// </summary>
    public async Task<StreamOutcome> StreamAsync(string prompt, int tokens, string? expected, int cutAfterEvents, CancellationToken ct)
    {
        using var drop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (cutAfterEvents == -1) drop.CancelAfter(TimeSpan.FromMilliseconds(Random.Shared.Next(0, 50)));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = Body(prompt, tokens, stream: true) };
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, drop.Token);
            if (response.StatusCode != HttpStatusCode.OK)
                return new(StreamVerdict.Lost, null, 0, $"status {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(drop.Token));
            string? id = null;
            var text = new StringBuilder();
            int events = 0, done = 0, finishes = 0, chunks = 0;
            while (await reader.ReadLineAsync(drop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (++events >= cutAfterEvents && cutAfterEvents >= 0)
                    {
                        await drop.CancelAsync();
                        return new(StreamVerdict.Cut, id, chunks);
                    }
                    continue;
                }
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) return new(StreamVerdict.Garbled, id, chunks, "line: " + line);
                string data = line["data: ".Length..];
                if (data == "[DONE]")
                {
                    done++;
                    continue;
                }
                if (done > 0) return new(StreamVerdict.Garbled, id, chunks, "event after [DONE]");
                var chunk = JsonNode.Parse(data)!;
                if (chunk["error"] is not null) return new(StreamVerdict.Lost, id, chunks, "error event: " + data);
                string chunkId = (string)chunk["id"]!;
                if ((id ??= chunkId) != chunkId) return new(StreamVerdict.Crossed, id, chunks, $"id {chunkId} inside stream {id}");
                if (chunk["choices"] is not JsonArray { Count: > 0 } choices) continue;
                chunks++;
                text.Append((string?)choices[0]!["text"]);
                if (choices[0]!["finish_reason"] is JsonValue) finishes++;
            }
            if (cutAfterEvents >= 0) return new(StreamVerdict.Cut, id, chunks); // ended before the cut
            if (done != 1 || finishes != 1) return new(StreamVerdict.Garbled, id, chunks, $"{done} [DONE], {finishes} finish_reason");
            if (expected is not null && text.ToString() != expected) return new(StreamVerdict.Crossed, id, chunks, "text differs from the request alone");
            return new(StreamVerdict.Ok, id, chunks);
        }
        catch (OperationCanceledException) when (drop.IsCancellationRequested)
        {
            return new(StreamVerdict.Cut, null, 0);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return new(StreamVerdict.Lost, null, 0, ex.Message);
        }
    }

    /// <summary>The summed value of each <c>qwenaspire_*</c> series on /metrics (labels dropped).</summary>
    public async Task<Dictionary<string, double>> MetricsAsync(CancellationToken ct)
    {
        string text = await _http.GetStringAsync("metrics", ct);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in SeriesPattern().Matches(text))
        {
            if (!double.TryParse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) continue;
            values[m.Groups[1].Value] = values.GetValueOrDefault(m.Groups[1].Value) + v;
        }
        return values;
    }

    public static double Find(Dictionary<string, double> metrics, string prefix) =>
        metrics.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(p => p.Value).DefaultIfEmpty(double.NaN).First();

    public void Dispose() => _http.Dispose();

    [GeneratedRegex(@"(?m)^(qwenaspire_[a-z_]+)(?:\{[^}]*\})? ([-+0-9.eE]+|NaN)")]
    private static partial Regex SeriesPattern();
}

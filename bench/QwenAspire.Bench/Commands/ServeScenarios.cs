using System.Globalization;
using System.Text.Json.Nodes;

namespace QwenAspire.Bench.Commands;

/// <summary>One measured row of a scenario (prefix rows also carry the cold and warm single-request TTFTs).</summary>
internal sealed record ScenarioRow(string Scenario, LevelResult Level, double? ColdTtftMs = null, double? WarmTtftMs = null);

/// <summary>
/// The bench-serve scenarios of issue 8, each a list of rows:
/// <list type="bullet">
/// <item><c>levels</c>: ANCHORS.md's load at each concurrency, unique short prompts, base model only.</item>
/// <item><c>adapters</c>: the same load at one concurrency with requests spread round-robin over the base and the
/// adapters (our server: model = adapter name; llama-server: per-request <c>lora</c> scales).</item>
/// <item><c>prefix</c>: one ~1,000-token system prompt shared by all requests with different short questions: a cold
/// request alone, then warm ones one at a time, then optionally a level at a concurrency.</item>
/// </list>
/// </summary>
internal sealed class ServeScenarios(ServeLoad load, ServePrompts prompts, string model, Action<string> log, Func<Task<string>> cpuState)
{
    private int _next;

    public int NextPrompt { get => _next; set => _next = value; }

    public async Task<List<ScenarioRow>> LevelsAsync(IEnumerable<int> concurrency, int requestsPerWorker, CancellationToken ct)
    {
        var rows = new List<ScenarioRow>();
        foreach (int c in concurrency)
            rows.Add(new("levels", await LevelAsync("levels", c, requestsPerWorker, n => new ServeRequest(model, null, prompts.Get(n).Text), ct)));
        return rows;
    }

    /// <param name="adapters">Our server's adapter model names; empty when <paramref name="loraCount"/> drives llama-server.</param>
    /// <param name="loraCount">llama-server's adapter count (started with that many <c>--lora</c>); 0 for our server.</param>
    public async Task<ScenarioRow> AdaptersAsync(int concurrency, int requestsPerWorker, IReadOnlyList<string> adapters, int loraCount, CancellationToken ct)
    {
        int targets = 1 + (loraCount > 0 ? loraCount : adapters.Count);
        if (targets < 2) throw new ArgumentException("the adapters scenario needs --adapters NAME,NAME (our server) or --lora-count N (llama-server).");
        ServeRequest Request(int n)
        {
            int target = n % targets;   // 0 = base
            string text = prompts.Get(n).Text;
            if (loraCount == 0) return new ServeRequest(target == 0 ? model : adapters[target - 1], null, text);
            // llama-server applies the request's scales to its loaded adapters; all zero is the base model.
            var lora = new JsonArray([.. Enumerable.Range(0, loraCount).Select(id =>
                (JsonNode)new JsonObject { ["id"] = id, ["scale"] = id == target - 1 ? 1.0 : 0.0 })]);
            return new ServeRequest(model, null, text, new JsonObject { ["lora"] = lora });
        }
        log($"adapters: {targets} targets (base + {targets - 1}) round-robin");
        return new("adapters", await LevelAsync("adapters", concurrency, requestsPerWorker, Request, ct));
    }

    public async Task<List<ScenarioRow>> PrefixAsync(int prefixTokens, int warmRequests, int concurrency, int requestsPerWorker, CancellationToken ct)
    {
        string nonce = Guid.NewGuid().ToString("N")[..8];
        var (system, tokens) = prompts.SharedPrefix(prefixTokens, nonce);
        log($"prefix: system prompt of {tokens} tokens (nonce {nonce}); cpu busy {await cpuState()}");
        ServeRequest Request(int n) => new(model, system, prompts.Get(n).Text);
        var cold = await load.StreamOneAsync(Request(_next++), load.MaxTokens, ct);
        var warm = new List<RequestTiming>();
        for (int i = 0; i < warmRequests; i++) warm.Add(await load.StreamOneAsync(Request(_next++), load.MaxTokens, ct));
        double warmMedian = LevelResult.Median(warm.Select(w => w.TtftMs));
        log(string.Create(CultureInfo.InvariantCulture,
            $"  cold TTFT {cold.TtftMs:N0} ms, warm TTFT median {warmMedian:N0} ms over {warm.Count} ({string.Join(", ", warm.Select(w => w.TtftMs.ToString("N0", CultureInfo.InvariantCulture)))} ms)"));
        var rows = new List<ScenarioRow> { new("prefix", new LevelResult(1, [cold, .. warm], 0), cold.TtftMs, warmMedian) };
        if (concurrency > 0)
            rows.Add(new("prefix", await LevelAsync("prefix", concurrency, requestsPerWorker, Request, ct)));
        return rows;
    }

    private async Task<LevelResult> LevelAsync(string scenario, int c, int requestsPerWorker, Func<int, ServeRequest> request, CancellationToken ct)
    {
        log($"{scenario} C={c}: cpu busy {await cpuState()}");
        var level = await load.RunLevelAsync(c, requestsPerWorker, request, _next, ct);
        _next += c * requestsPerWorker;
        var odd = level.Requests.Where(r => r.CompletionTokens != load.MaxTokens).ToList();
        if (odd.Count > 0)
            log($"  warning: {odd.Count} request(s) generated {string.Join(",", odd.Select(r => r.CompletionTokens))} tokens instead of {load.MaxTokens} " +
                $"(finish_reason {string.Join(",", odd.Select(r => r.FinishReason ?? "none").Distinct())}); does the server honour ignore_eos?");
        int chunks = level.Requests.Sum(r => r.TokenChunks);
        if (chunks != level.Tokens)
            log($"  note: {level.Tokens} tokens arrived in {chunks} text chunks; inter-token gaps are per chunk.");
        return level;
    }
}

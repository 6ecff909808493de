using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-serve</c>: the llama-server load of shared/bench/ANCHORS.md against our InferenceApi — per
/// concurrency level C, C workers × N streaming chat requests, 16–22-token prompts, exactly max_tokens each —
/// printing TTFT median, inter-token median and aggregate tok/s with ratios to llama-server's rows, plus issue 8's
/// scenarios (<see cref="ServeScenarios"/>: mixed adapters, shared prefix). Works against any OpenAI-compatible
/// server (<c>--url</c>, llama-server included: <c>--save-anchors</c> turns its run into today's anchors), or
/// with <c>--spawn-server</c> starts our InferenceApi itself, so one command measures end to end.
/// </summary>
internal static class ServeBench
{
    public const string UsageText =
        "bench-serve     (--url URL --api-key KEY | --spawn-server --model-dir DIR [--dtype bf16|f16|f32] [--threads 2] [--server-dll PATH]\n" +
        "                                                  [--server-lora NAME=DIR,NAME=DIR])\n" +
        "                [--model NAME] [--scenarios levels,adapters,prefix] [--concurrency 1,4,8,16] [--requests-per-worker 2] [--max-tokens 64] [--warmup 1]\n" +
        "                [--adapters NAME,NAME | --lora-count N] [--adapter-concurrency 8] [--prefix-tokens 1000] [--prefix-warm 4] [--prefix-concurrency 0]\n" +
        "                [--anchors FILE] [--save-anchors FILE --label BF16|Q8_0|...]";

    public static async Task<int> RunAsync(string[] args)
    {
        bool spawn = args.Contains("--spawn-server");
        Options o;
        try { o = Options.Parse(new CommandLine(args.Where(a => a != "--spawn-server").ToArray()), spawn); }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"bench-serve: {ex.Message}\nusage: {UsageText}");
            return 2;
        }

        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        ServerProcess? server = null;
        try
        {
            Uri url;
            string apiKey;
            if (spawn)
            {
                string dll = o.ServerDll ?? ServerProcess.FindDll()
                    ?? throw new ArgumentException("QwenAspire.InferenceApi.dll not found next to this repository; build src/QwenAspire.InferenceApi or pass --server-dll PATH.");
                apiKey = o.ApiKey ?? "bench-" + Guid.NewGuid().ToString("N");
                Console.WriteLine($"starting {dll} --model {o.ModelDir} --dtype {o.Dtype ?? "(server default)"} --threads {o.Threads}");
                var started = System.Diagnostics.Stopwatch.StartNew();
                server = ServerProcess.Start(dll, o.ModelDir!, apiKey, o.Dtype, o.Threads, o.ServerLoras);
                await server.WaitReadyAsync(o.StartupTimeout, cts.Token);
                Console.WriteLine($"server ready at {server.Url} after {started.Elapsed.TotalSeconds:0.0} s");
                url = server.Url;
            }
            else
            {
                url = new Uri(o.Url!.EndsWith('/') ? o.Url : o.Url + "/");
                apiKey = o.ApiKey!;
            }

            string model = o.Model ?? await FirstModelAsync(url, apiKey, cts.Token);
            await RunScenariosAsync(o, url, apiKey, model, cts.Token);
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException)
        {
            Console.Error.WriteLine($"bench-serve: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or InvalidOperationException or InvalidDataException
                                       or System.Text.Json.JsonException or OperationCanceledException
                                       or System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"bench-serve: {ex.Message}");
            if (server is not null && ex is not InvalidOperationException and not TimeoutException)
                Console.Error.WriteLine($"server's last output:\n{server.Tail()}");
            return 1;
        }
        finally
        {
            if (server is not null) await server.DisposeAsync();
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task RunScenariosAsync(Options o, Uri url, string apiKey, string model, CancellationToken ct)
    {
        var anchors = ServeAnchors.Load(o.AnchorsFile);
        var prompts = new ServePrompts();
        var load = new ServeLoad(url, apiKey, o.MaxTokens, o.RequestTimeout);
        var scenarios = new ServeScenarios(load, prompts, model, Console.WriteLine, () => CpuStateAsync(ct));
        Console.WriteLine($"model '{model}' at {url}; weights: {Precision(o)}; scenarios {string.Join(",", o.Scenarios)}; {o.RequestsPerWorker} requests per worker, " +
                          $"{o.MaxTokens} tokens each (ignore_eos), prompts {ServePrompts.MinTokens}-{ServePrompts.MaxTokens} tokens, temperature 0");
        if (o.ModelDir is not null && ShapeMismatch(o.ModelDir) is { } mismatch)
            Console.WriteLine($"note: the anchors are for Qwen3-1.7B shapes; this model has {mismatch}, so the ratios only check the tool.");
        for (int i = 0; i < o.Warmup; i++)   // JIT and first-touch, not timed
            await load.StreamOneAsync(new ServeRequest(model, null, prompts.Get(scenarios.NextPrompt++).Text), Math.Min(8, o.MaxTokens), ct);

        var rows = new List<ScenarioRow>();
        try
        {
            foreach (string scenario in o.Scenarios)
            {
                switch (scenario)
                {
                    case "levels": rows.AddRange(await scenarios.LevelsAsync(o.Concurrency, o.RequestsPerWorker, ct)); break;
                    case "adapters": rows.Add(await scenarios.AdaptersAsync(o.AdapterConcurrency, o.RequestsPerWorker, o.Adapters, o.LoraCount, ct)); break;
                    case "prefix": rows.AddRange(await scenarios.PrefixAsync(o.PrefixTokens, o.PrefixWarm, o.PrefixConcurrency, o.RequestsPerWorker, ct)); break;
                }
            }
        }
        finally
        {
            // A scenario that fails (a server refusing a long prompt, say) must not throw away the minutes of rows before it.
            if (rows.Count > 0)
            {
                ServeReport.Print(rows, anchors, Precision(o), o.AnchorsFile ?? "built-in, ANCHORS.md 2026-11-25");
                if (o.SaveAnchors is not null)
                {
                    ServeAnchors.Save(o.SaveAnchors, ServeReport.AsAnchors(rows, o.Label!));
                    Console.WriteLine($"saved these rows as '{o.Label}' anchors in {o.SaveAnchors}");
                }
            }
        }
    }

    private static async Task<string> CpuStateAsync(CancellationToken ct) => $"{await CpuBusyAsync(ct)} over the last second, loadavg {LoadAverage()}";

    /// <summary>Null when config.json has the anchors' shapes (hidden 2048, 28 layers, intermediate 6144), else what differs.</summary>
    private static string? ShapeMismatch(string modelDir)
    {
        string path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path)) return "no config.json";
        var config = JsonNode.Parse(File.ReadAllText(path));
        int? Get(string key) => config?[key] is JsonValue v && v.TryGetValue<int>(out int i) ? i : null;
        var shape = (Hidden: Get("hidden_size"), Layers: Get("num_hidden_layers"), Intermediate: Get("intermediate_size"));
        return shape == (2048, 28, 6144) ? null
            : $"hidden {shape.Hidden}, {shape.Layers} layers, intermediate {shape.Intermediate}";
    }

    private static string Precision(Options o)
    {
        if (o.Dtype is not null) return o.Dtype;
        // The server's "auto" loads the checkpoint's torch_dtype (f32 when config.json names none).
        string config = Path.Combine(o.ModelDir ?? "", "config.json");
        if (o.ModelDir is not null && File.Exists(config))
            return $"auto = {(string?)JsonNode.Parse(File.ReadAllText(config))?["torch_dtype"] ?? "float32"} (config.json torch_dtype)";
        return "unknown; pass --dtype to label it";
    }

    private static async Task<string> FirstModelAsync(Uri url, string apiKey, CancellationToken ct)
    {
        using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await client.GetAsync("v1/models", ct);
        string text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET /v1/models answered {(int)response.StatusCode}: {text}");
        return (string?)JsonNode.Parse(text)?["data"]?[0]?["id"]
            ?? throw new InvalidDataException("GET /v1/models listed no model; pass --model NAME.");
    }

    /// <summary>Share of non-idle CPU time over one second (ANCHORS.md: record the load next to each figure).</summary>
    private static async Task<string> CpuBusyAsync(CancellationToken ct)
    {
        if (!File.Exists("/proc/stat")) return "n/a";
        static (long Idle, long Total) Sample()
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            return (fields[3] + fields[4], fields.Sum());   // idle + iowait
        }
        var a = Sample();
        await Task.Delay(1000, ct);
        var b = Sample();
        long total = b.Total - a.Total;
        return total <= 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * (total - (b.Idle - a.Idle)) / total:0}%");
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";

    private sealed record Options(
        bool Spawn, string? Url, string? ApiKey, string? Model, string? ModelDir, string? Dtype, int Threads, string? ServerDll,
        int[] Concurrency, int RequestsPerWorker, int MaxTokens, int Warmup, TimeSpan StartupTimeout, TimeSpan RequestTimeout,
        string[] Scenarios, string[] Adapters, int LoraCount, int AdapterConcurrency, int PrefixTokens, int PrefixWarm, int PrefixConcurrency,
        string? AnchorsFile, string? SaveAnchors, string? Label, string[] ServerLoras)
    {
        public static Options Parse(CommandLine cl, bool spawn)
        {
            var o = new Options(spawn, cl.Get("url"), cl.Get("api-key"), cl.Get("model"), cl.Get("model-dir"), cl.Get("dtype"),
                cl.Int("threads", 2), cl.Get("server-dll"),
                List(cl.Get("concurrency") ?? "1,4,8,16")
                    .Select(c => int.TryParse(c, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
                        : throw new ArgumentException($"--concurrency: '{c}' is not a positive integer (expected e.g. 1,4,8)."))
                    .ToArray(),
                cl.Int("requests-per-worker", 2), cl.Int("max-tokens", 64), cl.Int("warmup", 1),
                TimeSpan.FromSeconds(cl.Int("startup-timeout", 900)), TimeSpan.FromSeconds(cl.Int("request-timeout", 900)),
                List(cl.Get("scenarios") ?? "levels"), List(cl.Get("adapters") ?? ""), cl.Int("lora-count", 0), cl.Int("adapter-concurrency", 8),
                cl.Int("prefix-tokens", 1000), cl.Int("prefix-warm", 4), cl.Int("prefix-concurrency", 0),
                cl.Get("anchors"), cl.Get("save-anchors"), cl.Get("label"), List(cl.Get("server-lora") ?? ""));
            if (o.ServerLoras.FirstOrDefault(l => l.IndexOf('=') is <= 0) is { } badLora)
                throw new ArgumentException($"--server-lora: '{badLora}' is not NAME=DIR.");
            if (o.ServerLoras.Length > 0 && !spawn) throw new ArgumentException("--server-lora needs --spawn-server (a running server has its adapters already).");
            // The spawned server's adapters are the ones to spread the adapters scenario over, unless named otherwise.
            if (o.Adapters.Length == 0 && o.ServerLoras.Length > 0) o = o with { Adapters = [.. o.ServerLoras.Select(l => l[..l.IndexOf('=')])] };
            if (o.Scenarios.FirstOrDefault(s => s is not ("levels" or "adapters" or "prefix")) is { } unknown)
                throw new ArgumentException($"--scenarios: '{unknown}' is not one of levels, adapters, prefix.");
            if (o.Scenarios.Contains("adapters") && o.Adapters.Length == 0 && o.LoraCount <= 0)
                throw new ArgumentException("--scenarios adapters needs --adapters NAME,NAME (our server's adapter names) or --lora-count N (llama-server started with N --lora).");
            if (o.Adapters.Length > 0 && o.LoraCount > 0) throw new ArgumentException("--adapters and --lora-count exclude each other.");
            if (o.SaveAnchors is not null && o.Label is null) throw new ArgumentException("--save-anchors needs --label FORMAT (e.g. BF16) to name the rows.");
            if (o.AdapterConcurrency < 1 || o.PrefixTokens < 1 || o.PrefixWarm < 1 || o.PrefixConcurrency < 0)
                throw new ArgumentException("--adapter-concurrency, --prefix-tokens and --prefix-warm must be at least 1, --prefix-concurrency at least 0.");
            if (spawn)
            {
                if (o.ModelDir is null) throw new ArgumentException("--spawn-server needs --model-dir DIR.");
                if (!Directory.Exists(o.ModelDir)) throw new ArgumentException($"--model-dir: folder '{o.ModelDir}' does not exist.");
                if (o.Url is not null) throw new ArgumentException("--url and --spawn-server exclude each other.");
                if (o.ServerDll is not null && !File.Exists(o.ServerDll)) throw new ArgumentException($"--server-dll: file '{o.ServerDll}' does not exist.");
            }
            else
            {
                if (o.Url is null) throw new ArgumentException("give --url URL (a running server) or --spawn-server --model-dir DIR.");
                if (!Uri.TryCreate(o.Url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
                    throw new ArgumentException($"--url: '{o.Url}' is not an http(s) URL.");
                if (o.ApiKey is null) throw new ArgumentException("--api-key is required with --url.");
            }
            if (o.Concurrency.Length == 0) throw new ArgumentException("--concurrency lists no level.");
            if (o.RequestsPerWorker < 1) throw new ArgumentException("--requests-per-worker must be at least 1.");
            if (o.MaxTokens < 2) throw new ArgumentException("--max-tokens must be at least 2 (one gap to time).");
            if (o.Threads < 1) throw new ArgumentException("--threads must be at least 1.");
            if (o.Warmup < 0) throw new ArgumentException("--warmup must be 0 or more.");
            return o;
        }

        private static string[] List(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }
}

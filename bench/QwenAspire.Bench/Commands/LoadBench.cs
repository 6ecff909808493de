using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// Issue 12's load and disconnect-storm runs against a spawned server: <c>--streams</c> greedy streams held for
/// <c>--minutes</c>, each checked (one id, one finish, one [DONE], the same text as the request alone); a burst
/// beyond <c>--queue</c> that must get 429 + Retry-After; the server's RSS warmed up, at peak and after; then
/// <c>--storm</c> streams dropped at random points, the steps and time until every KV block is free, and the
/// latency of the next requests against the same requests before the storm.
/// </summary>
internal static class LoadBench
{
    public const string UsageText =
        "bench-load      [--model-dir DIR (default: the generated tiny demo model)] [--minutes 10] [--streams 32] [--tokens 32]\n" +
        "                  [--queue 32] [--storm 200] [--threads 2] [--server-dll PATH]";

    private const string Key = "sk-bench-load";
    private static readonly string[] s_prompts = Enumerable.Range(0, 8).Select(i => $"Load prompt {i}: say something about {i * 37}.").ToArray();

    public static async Task<int> RunAsync(string[] args)
    {
        var cl = new CommandLine(args);
        double minutes = double.Parse(cl.Get("minutes") ?? "10", CultureInfo.InvariantCulture);
        int streams = cl.Int("streams", 32), tokens = cl.Int("tokens", 32), queue = cl.Int("queue", 32), storm = cl.Int("storm", 200);
        string modelDir = cl.Get("model-dir") ?? DemoModel();
        string dll = cl.Get("server-dll") ?? ServerProcess.FindDll() ?? throw new InvalidOperationException("build src/QwenAspire.InferenceApi first (or pass --server-dll).");

        await using var server = ServerProcess.Start(dll, modelDir, Key, null, cl.Int("threads", 2), [],
            [$"--Engine:max_queue_length={queue}", "--Engine:max_running_sequences=16"]);
        await server.WaitReadyAsync(TimeSpan.FromMinutes(10), CancellationToken.None);
        using var client = new LoadClient(server.Url, Key, await LoadClient.FirstModelAsync(server.Url, Key));
        Console.WriteLine($"bench-load: {streams} streams x {tokens} tokens for {minutes} min, queue {queue}, storm {storm}; model {modelDir}; load {Load()}");

        var alone = new Dictionary<string, string>();
        foreach (var p in s_prompts) alone[p] = await client.CompleteAsync(p, tokens, CancellationToken.None);
        var failures = new ConcurrentQueue<string>();

        // Warm-up: one round of every stream, then the baseline RSS.
        await Task.WhenAll(Enumerable.Range(0, streams).Select(i => Check(client, alone, s_prompts[i % 8], tokens, failures)));
        await WaitIdleAsync(client);
        long started = Rss(server.ProcessId);

        // Sustained: every worker streams back to back until the deadline.
        var counts = new ConcurrentDictionary<StreamVerdict, int>();
        var ids = new ConcurrentDictionary<string, bool>();
        long generated = 0, peak = started, baseline = 0;
        var clock = Stopwatch.StartNew();
        var until = TimeSpan.FromMinutes(minutes);
        // The KV pool's pages are touched lazily (the free list hands out every block in time, prefix caching keeps
        // freed ones), so "warmed up" is after the first tenth of the load (at least 30 s), not after one round.
        var warm = TimeSpan.FromSeconds(Math.Max(30, until.TotalSeconds / 10));
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            int minute = 0;
            while (!sampling.IsCancellationRequested)
            {
                long rss = Rss(server.ProcessId);
                Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), rss));
                if (baseline == 0 && clock.Elapsed >= warm) Interlocked.Exchange(ref baseline, rss);
                if (clock.Elapsed.TotalMinutes >= minute + 1) Console.WriteLine($"  {++minute} min: RSS {Mb(rss)}, {Interlocked.Read(ref generated)} tokens, load {Load()}");
                try { await Task.Delay(2000, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        await Task.WhenAll(Enumerable.Range(0, streams).Select(async worker =>
        {
            for (int n = 0; clock.Elapsed < until; n++)
            {
                string prompt = s_prompts[(worker + n) % 8];
                var outcome = await client.StreamAsync(prompt, tokens, alone[prompt], int.MinValue, CancellationToken.None);
                if (outcome.Id is { } id && !ids.TryAdd(id, true)) outcome = outcome with { Verdict = StreamVerdict.Crossed, Detail = "id reused: " + id };
                counts.AddOrUpdate(outcome.Verdict, 1, (_, c) => c + 1);
                Interlocked.Add(ref generated, outcome.Tokens);
                if (outcome.Verdict != StreamVerdict.Ok) failures.Enqueue($"{outcome.Verdict}: {outcome.Detail}");
            }
        }));
        double sustained = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        await WaitIdleAsync(client);
        await Task.Delay(2000);
        long after = Rss(server.ProcessId);
        int ok = counts.GetValueOrDefault(StreamVerdict.Ok);
        Console.WriteLine($"sustained: {ok + counts.Values.Sum() - ok} streams in {sustained:0} s ({generated / sustained:0.0} tok/s): ok {ok}, lost {counts.GetValueOrDefault(StreamVerdict.Lost)}, " +
                          $"garbled {counts.GetValueOrDefault(StreamVerdict.Garbled)}, crossed {counts.GetValueOrDefault(StreamVerdict.Crossed)}; load {Load()}");
        if (baseline == 0) baseline = peak;
        Console.WriteLine($"RSS: after one round {Mb(started)}, warmed up ({warm.TotalSeconds:0} s) {Mb(baseline)}, peak {Mb(peak)}, after {Mb(after)} " +
                          $"({100.0 * (after - baseline) / baseline:+0.0;-0.0} % of warmed up)");
        if (after > baseline * 1.10) failures.Enqueue($"RSS after the load {Mb(after)} is more than 10 % above the warmed-up {Mb(baseline)}");

        await OverloadAsync(client, streams, queue, tokens, failures);
        await StormAsync(client, alone, storm, streams, tokens, failures);

        Console.WriteLine(failures.IsEmpty ? "result: 0 failures" : $"result: {failures.Count} failures:\n  " + string.Join("\n  ", failures.Take(20)));
        return failures.IsEmpty ? 0 : 1;
    }

    private static async Task Check(LoadClient client, Dictionary<string, string> alone, string prompt, int tokens, ConcurrentQueue<string> failures)
    {
        var outcome = await client.StreamAsync(prompt, tokens, alone[prompt], int.MinValue, CancellationToken.None);
        if (outcome.Verdict != StreamVerdict.Ok) failures.Enqueue($"warm-up {outcome.Verdict}: {outcome.Detail}");
    }

    /// <summary>Long streams hold every seat and queue place; a burst beyond must be refused with 429 + Retry-After.</summary>
    private static async Task OverloadAsync(LoadClient client, int streams, int queue, int tokens, ConcurrentQueue<string> failures)
    {
        using var hold = new CancellationTokenSource();
        int inFlight = Math.Max(streams, queue + 16);
        var held = Enumerable.Range(0, inFlight).Select(i => client.StreamAsync(s_prompts[i % 8], 3000, null, int.MinValue, hold.Token)).ToList();
        for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromMinutes(2); await Task.Delay(50))
        {
            var m = await client.MetricsAsync(CancellationToken.None);
            if (LoadClient.Find(m, "qwenaspire_sequences_running") + LoadClient.Find(m, "qwenaspire_queue_depth") >= Math.Min(inFlight, queue + 16)) break;
        }
        int burst = queue;
        var responses = await Task.WhenAll(Enumerable.Range(0, burst).Select(i => client.PostAsync(s_prompts[i % 8], tokens, false, CancellationToken.None)));
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        int withRetryAfter = refused.Count(r => r.Headers.RetryAfter?.Delta is not null);
        await hold.CancelAsync();
        await Task.WhenAll(held);
        int accepted = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        Console.WriteLine($"overload: {inFlight} long streams in flight (queue {queue}), burst of {burst}: {refused.Count} x 429 ({withRetryAfter} with Retry-After), {accepted} x 200, " +
                          $"{burst - refused.Count - accepted} other");
        if (refused.Count == 0 || withRetryAfter != refused.Count || refused.Count + accepted != burst)
            failures.Enqueue("overload: expected only 429 with Retry-After and 200");
        foreach (var r in responses) r.Dispose();
        await WaitIdleAsync(client);
    }

    /// <summary>Streams dropped at random points; then every block must be free within a step, the next requests as fast as before.</summary>
    private static async Task StormAsync(LoadClient client, Dictionary<string, string> alone, int storm, int concurrency, int tokens, ConcurrentQueue<string> failures)
    {
        double before = await LatencyAsync(client, alone, tokens, failures);
        var rng = new Random(12);
        var cuts = Enumerable.Range(0, storm).Select(_ => rng.Next(-1, tokens)).ToList();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(cuts, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (cut, _) =>
        {
            var outcome = await client.StreamAsync(s_prompts[Math.Abs(cut) % 8], tokens, null, cut, CancellationToken.None);
            if (outcome.Verdict is not (StreamVerdict.Cut or StreamVerdict.Ok)) failures.Enqueue($"storm {outcome.Verdict}: {outcome.Detail}");
        });
        double stormSeconds = clock.Elapsed.TotalSeconds;
        var m0 = await client.MetricsAsync(CancellationToken.None);
        var (freeMs, steps) = await WaitIdleAsync(client, Steps(m0));
        double afterStorm = await LatencyAsync(client, alone, tokens, failures);
        await Task.Delay(5000);
        double later = await LatencyAsync(client, alone, tokens, failures);
        // Steps, not time, say how fast an abort frees its blocks: the server learns of a dropped stream when its next
        // write fails, and the engine reaps it before the step after that (InferenceEngineTests checks the one step).
        Console.WriteLine($"storm: {storm} streams dropped at random points in {stormSeconds:0.0} s; every KV block free {freeMs:0} ms " +
                          $"and {steps} engine step(s) after the last client dropped; next requests (median of 5, {tokens} tokens) {afterStorm:0} ms, " +
                          $"5 s later {later:0} ms, before the storm {before:0} ms; load {Load()}");
    }

    /// <summary>Median of 5 non-streamed requests alone (and each checked against the reference).</summary>
    private static async Task<double> LatencyAsync(LoadClient client, Dictionary<string, string> alone, int tokens, ConcurrentQueue<string> failures)
    {
        var times = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            string text = await client.CompleteAsync(s_prompts[i], tokens, CancellationToken.None);
            times.Add(clock.Elapsed.TotalMilliseconds);
            if (text != alone[s_prompts[i]]) failures.Enqueue("latency probe: text differs from the reference");
        }
        return LevelResult.Median(times);
    }

    /// <summary>Polls /metrics until no block is used and nothing runs or waits; returns the wait and the steps that ran meanwhile.</summary>
    private static async Task<(double Ms, double Steps)> WaitIdleAsync(LoadClient client, double stepsBefore = double.NaN)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var m = await client.MetricsAsync(CancellationToken.None);
            if (LoadClient.Find(m, "qwenaspire_kv_blocks_used") == 0 && LoadClient.Find(m, "qwenaspire_sequences_running") == 0
                && LoadClient.Find(m, "qwenaspire_queue_depth") == 0 && LoadClient.Find(m, "qwenaspire_sequences_waiting") == 0)
                return (clock.Elapsed.TotalMilliseconds, Steps(m) - stepsBefore);
            if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("the server did not drain within 2 minutes");
            await Task.Delay(10);
        }
    }

    /// <summary>Engine steps so far: the count of the per-step batch-size histogram.</summary>
    private static double Steps(Dictionary<string, double> metrics) =>
        metrics.Where(p => p.Key.StartsWith("qwenaspire_batch_size", StringComparison.Ordinal) && p.Key.EndsWith("_count", StringComparison.Ordinal))
            .Select(p => p.Value).DefaultIfEmpty(double.NaN).First();

    private static string DemoModel()
    {
        string dir = Path.Combine(Path.GetTempPath(), "qwenaspire-bench-load-model");
        if (!File.Exists(Path.Combine(dir, "model.safetensors"))) ModelGenerator.WriteDemoModel(dir);
        return dir;
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024):0} MiB";
    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}

using System.Net;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// A server with runtime adapters on (<c>engine.allow_runtime_lora</c>) whose only root holds the tiny fixture's
/// two adapters (generated from the recipe, as the unit tests do), plus a folder outside the root with a valid
/// adapter no client may load. The model is the demo model, which is the fixture's tiny-qwen3 base.
/// </summary>
public sealed class LoraServers : IAsyncLifetime
{
    public const string BaseModel = ModelServer.Model;
    private static readonly string s_demoDirectory = Path.Combine(Path.GetTempPath(), "qwenaspire-functional-lora-demo-model");

    /// <summary>A 40-token prompt: more than two full KV blocks, so a repeat of it is a prefix-cache hit.</summary>
    public static readonly int[] Prompt = [.. Enumerable.Range(1000, 40)];

    public string Tmp { get; } = Path.Combine(Path.GetTempPath(), "qwenaspire-lora-" + Guid.NewGuid().ToString("N")[..8]);
    public string Root => Path.Combine(Tmp, "roots");
    public string Outside => Path.Combine(Tmp, "outside");
    public string LoraAll => Path.Combine(Root, "lora-all");
    public string LoraRs => Path.Combine(Root, "lora-rs");
    public TestApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ModelGenerator.GenerateAdapter("lora-all", "tiny", LoraAll);
        ModelGenerator.GenerateAdapter("lora-rs", "tiny", LoraRs);
        ModelGenerator.GenerateAdapter("lora-all", "tiny", Path.Combine(Outside, "lora-all"));
        App = await StartAsync("--Engine:allow_runtime_lora=true", "--Engine:lora_roots:0=" + Root);
    }

    /// <summary>A server on the shared demo model with the given extra switches, once ready.</summary>
    public static async Task<TestApp> StartAsync(params string[] args)
    {
        var app = await TestApp.StartAsync(["--Model:demo_directory=" + s_demoDirectory, .. args]);
        await ModelServer.WaitReadyAsync(app);
        return app;
    }

    /// <summary>A copy of a fixture adapter under the root, for tests that break it.</summary>
    public string CopyUnderRoot(string adapter, string name)
    {
        string target = Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(adapter)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        try
        {
            Directory.Delete(Tmp, recursive: true);
        }
        catch (IOException)
        {
            // litter in the temp folder only
        }
    }

    public static Task<HttpResponseMessage> LoadAsync(HttpClient client, string name, string path) =>
        client.PostAsync("/v1/load_lora_adapter", ModelServer.Json(new { lora_name = name, lora_path = path }));

    public static Task<HttpResponseMessage> UnloadAsync(HttpClient client, string name) =>
        client.PostAsync("/v1/unload_lora_adapter", ModelServer.Json(new { lora_name = name }));

    public static async Task LoadOkAsync(HttpClient client, string name, string path)
    {
        var response = await LoadAsync(client, name, path);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal($"Success: LoRA adapter '{name}' added successfully.", text);
    }

    public static async Task UnloadOkAsync(HttpClient client, string name)
    {
        var response = await UnloadAsync(client, name);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal($"Success: LoRA adapter '{name}' removed successfully.", text);
    }

    public static async Task<List<string>> ModelIdsAsync(HttpClient client)
    {
        var list = JsonNode.Parse(await client.GetStringAsync("/v1/models"))!;
        return [.. list["data"]!.AsArray().Select(m => (string)m!["id"]!)];
    }

    /// <summary>Greedy completion of <see cref="Prompt"/>: the generated token ids.</summary>
    public static async Task<int[]> GreedyAsync(HttpClient client, string model, int maxTokens = 12)
    {
        var response = await client.PostAsync("/v1/completions", ModelServer.Json(new
        {
            model, prompt = Prompt, max_tokens = maxTokens, temperature = 0, ignore_eos = true, return_token_ids = true,
        }));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{model}: {(int)response.StatusCode}: {text}");
        return [.. JsonNode.Parse(text)!["choices"]![0]!["token_ids"]!.AsArray().Select(t => (int)t!)];
    }

    /// <summary>Starts a long greedy stream and returns once its first event has arrived (it is running in the engine).</summary>
    public static async Task<StreamReader> StartStreamAsync(HttpClient client, string model, int maxTokens)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = ModelServer.Json(new
            {
                model, prompt = Prompt, max_tokens = maxTokens, temperature = 0, ignore_eos = true, stream = true,
                stream_options = new { include_usage = true },
            }),
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal))
                return reader;
        throw new InvalidOperationException("the stream ended before its first event");
    }

    /// <summary>Reads the rest of a stream and checks it ended normally: no error event, all tokens, [DONE].</summary>
    public static async Task AssertFinishesNormallyAsync(StreamReader reader, int maxTokens)
    {
        string rest = await reader.ReadToEndAsync();
        var (events, sawDone) = await ModelServer.ReadStreamLikeDifyAsync(new HttpResponseMessage { Content = new StringContent(rest) });
        Assert.True(sawDone, "no [DONE]");
        Assert.DoesNotContain(events, e => e.ContainsKey("error"));
        Assert.Contains(events, e => e["choices"] is JsonArray { Count: > 0 } c && (string?)c[0]!["finish_reason"] == "length");
        Assert.Equal(maxTokens, (int)events[^1]["usage"]!["completion_tokens"]!);
    }
}

using System.Net;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// The demo model served with a tiny token budget (8 per step) and 4-token KV blocks, so a prompt of a few dozen
/// tokens is prefilled in chunks and has several full blocks the prefix cache could serve.
/// </summary>
public sealed class ChunkedPrefillServer : IAsyncLifetime
{
    public TestApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await TestApp.StartAsync("--Model:demo_directory=" + ModelServer.DemoDirectory,
            "--engine:max_batched_tokens=8", "--engine:max_running_sequences=4", "--engine:kv_block_size=4");
        await ModelServer.WaitReadyAsync(App);
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>
/// /v1/completions with echo and logprobs (OpenAI's legacy behaviour, vLLM's too): the logprobs cover the echoed
/// prompt, each prompt token scored under the tokens before it, checked against the model run prefix by prefix.
/// </summary>
public sealed class EchoLogprobsTests(ChunkedPrefillServer server) : IClassFixture<ChunkedPrefillServer>
{
    private const string Prompt = "The quick brown fox jumps over the lazy dog, then it naps in the warm sun by the old river bank.";
    private const float Tolerance = 2e-3f; // the same logits row computed in batches of other shapes

    private async Task<JsonObject> PostAsync(HttpClient http, object body)
    {
        var response = await http.PostAsync("/v1/completions", ModelServer.Json(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static object Body(bool stream, int maxTokens, int logprobs = 3) => new
    {
        model = ModelServer.Model, prompt = Prompt, echo = true, logprobs, max_tokens = maxTokens,
        temperature = 0, ignore_eos = true, stream, return_token_ids = !stream,
    };

    private static float?[] Floats(JsonNode? node) => node!.AsArray().Select(n => n?.GetValue<float>()).ToArray();
    private static string[] Strings(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
    private static int[] Ints(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    private async Task<int[]> PromptIdsAsync(HttpClient http)
    {
        var response = await http.PostAsync("/tokenize", ModelServer.Json(new { model = ModelServer.Model, prompt = Prompt }));
        var ids = Ints(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["tokens"]);
        Assert.True(ids.Length > 16, $"the prompt must span several 8-token steps, has {ids.Length} tokens");
        return ids;
    }

    [Fact]
    public async Task EchoedPromptTokensCarryTheirLogprobsUnderThePrefixBeforeThem()
    {
        using var http = server.App.Client();
        var ids = await PromptIdsAsync(http);
        // The same prompt once without logprobs first: its full blocks are now in the prefix cache, which the echo
        // request must not use (positions it skipped would have no logits).
        var plain = await PostAsync(http, new { model = ModelServer.Model, prompt = Prompt, max_tokens = 4, temperature = 0, ignore_eos = true, return_token_ids = true });

        var choice = (await PostAsync(http, Body(stream: false, maxTokens: 4)))["choices"]![0]!;
        string text = (string)choice["text"]!;
        var lp = choice["logprobs"]!;
        var tokens = Strings(lp["tokens"]);
        var logprobs = Floats(lp["token_logprobs"]);
        var offsets = Ints(lp["text_offset"]);
        var top = lp["top_logprobs"]!.AsArray();
        int n = ids.Length;

        Assert.Equal(Ints(plain["choices"]![0]!["token_ids"]), Ints(choice["token_ids"])); // the continuation is unchanged
        Assert.Equal(Prompt + (string)plain["choices"]![0]!["text"]!, text);
        Assert.Equal(n + 4, tokens.Length);
        Assert.Equal([n + 4, n + 4, n + 4], new[] { logprobs.Length, offsets.Length, top.Count });
        Assert.Equal(Prompt, string.Concat(tokens[..n]));
        for (int i = 0; i < tokens.Length; i++) Assert.Equal(tokens[i], text.Substring(offsets[i], tokens[i].Length));
        Assert.Equal(Prompt.Length, offsets[n]);
        Assert.Null(logprobs[0]);
        Assert.Null(top[0]);

        for (int j = 1; j < n; j++)
        {
            // Independently: the prefix alone, its next token forced to prompt token j by logit_bias (logprobs are of
            // the raw distribution, before the bias), so the reported logprob is that token's under the prefix.
            var alone = (await PostAsync(http, new Dictionary<string, object>
            {
                ["model"] = ModelServer.Model, ["prompt"] = ids[..j], ["max_tokens"] = 1, ["temperature"] = 0, ["logprobs"] = 3,
                ["ignore_eos"] = true, ["return_token_ids"] = true, ["logit_bias"] = new Dictionary<string, int> { [ids[j].ToString()] = 100 },
            }))["choices"]![0]!;
            Assert.Equal([ids[j]], Ints(alone["token_ids"]));
            Assert.Equal(Floats(alone["logprobs"]!["token_logprobs"])[0]!.Value, logprobs[j]!.Value, Tolerance);
            var expectedTop = alone["logprobs"]!["top_logprobs"]![0]!.AsObject();
            var actualTop = top[j]!.AsObject();
            Assert.Equal(expectedTop.Select(p => p.Key).Order(), actualTop.Select(p => p.Key).Order());
            foreach (var (key, value) in expectedTop) Assert.Equal((float)value!, (float)actualTop[key]!, Tolerance);
        }
    }

    [Fact]
    public async Task StreamingSendsTheEchoedPromptWithItsLogprobsFirstAndMatchesNonStreaming()
    {
        using var http = server.App.Client();
        int n = (await PromptIdsAsync(http)).Length;
        var whole = (await PostAsync(http, Body(stream: false, maxTokens: 5)))["choices"]![0]!;

        var response = await http.PostAsync("/v1/completions", ModelServer.Json(Body(stream: true, maxTokens: 5)));
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done);
        var chunks = events.Select(e => e["choices"]!.AsArray().Single()!).ToList();
        Assert.Equal(Prompt, (string)chunks[0]["text"]!);
        Assert.Equal(n, Strings(chunks[0]["logprobs"]!["tokens"]).Length);
        Assert.Null(Floats(chunks[0]["logprobs"]!["token_logprobs"])[0]);

        var withLogprobs = chunks.Where(c => c["logprobs"] is not null).ToList();
        Assert.Equal((string)whole["text"]!, string.Concat(chunks.Select(c => (string)c["text"]!)));
        Assert.Equal(Strings(whole["logprobs"]!["tokens"]), withLogprobs.SelectMany(c => Strings(c["logprobs"]!["tokens"])));
        Assert.Equal(Ints(whole["logprobs"]!["text_offset"]), withLogprobs.SelectMany(c => Ints(c["logprobs"]!["text_offset"])));
        var expected = Floats(whole["logprobs"]!["token_logprobs"]);
        var actual = withLogprobs.SelectMany(c => Floats(c["logprobs"]!["token_logprobs"])).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 1; i < expected.Length; i++) Assert.Equal(expected[i]!.Value, actual[i]!.Value, Tolerance);
        Assert.Equal("length", (string?)chunks[^1]["finish_reason"]);
    }

    [Fact]
    public async Task MaxTokensZeroWithEchoScoresThePromptWithoutGenerating()
    {
        using var http = server.App.Client();
        var ids = await PromptIdsAsync(http);
        var reference = Floats((await PostAsync(http, Body(stream: false, maxTokens: 2)))["choices"]![0]!["logprobs"]!["token_logprobs"]);

        var scored = await PostAsync(http, Body(stream: false, maxTokens: 0));
        var choice = scored["choices"]![0]!;
        Assert.Equal(Prompt, (string)choice["text"]!);
        Assert.Equal("length", (string?)choice["finish_reason"]);
        Assert.Empty(Ints(choice["token_ids"]));
        Assert.Equal((ids.Length, 0), ((int)scored["usage"]!["prompt_tokens"]!, (int)scored["usage"]!["completion_tokens"]!));
        var logprobs = Floats(choice["logprobs"]!["token_logprobs"]);
        Assert.Equal(ids.Length, logprobs.Length);
        for (int i = 1; i < ids.Length; i++) Assert.Equal(reference[i]!.Value, logprobs[i]!.Value, Tolerance);

        var response = await http.PostAsync("/v1/completions", ModelServer.Json(Body(stream: true, maxTokens: 0)));
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done);
        var only = Assert.Single(events)["choices"]![0]!;
        Assert.Equal((Prompt, "length"), ((string)only["text"]!, (string?)only["finish_reason"]));
        Assert.Equal(ids.Length, Strings(only["logprobs"]!["tokens"]).Length);
    }

    [Fact]
    public async Task MaxTokensZeroWithoutEchoIs400()
    {
        using var http = server.App.Client();
        var error = await ErrorEnvelope.ReadAsync(await http.PostAsync("/v1/completions",
            ModelServer.Json(new { model = ModelServer.Model, prompt = Prompt, max_tokens = 0 })));
        Assert.Equal((HttpStatusCode.BadRequest, "max_tokens"), (error.Status, error.Param));
    }
}

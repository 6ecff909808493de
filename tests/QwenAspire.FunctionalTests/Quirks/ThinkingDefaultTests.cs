using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.FunctionalTests.Quirks;

/// <summary>
/// The thinking default per served model: <c>generation.enable_thinking</c> for the base model and any adapter
/// without its own, <c>model.adapters.NAME.enable_thinking</c> for one that has it (the section form of the
/// adapter entry). /tokenize and chat render the same prompt for each (they once disagreed when the default was off).
/// </summary>
public sealed class ThinkingDefaultTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "qwenaspire-thinking-" + Guid.NewGuid().ToString("N")[..8]);
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        ModelGenerator.GenerateAdapter("lora-all", "tiny", Path.Combine(_root, "thinker"));
        ModelGenerator.GenerateAdapter("lora-rs", "tiny", Path.Combine(_root, "plain"));
        _app = await LoraServers.StartAsync("--Generation:enable_thinking=false",
            "--Model:adapters:thinker:path=" + Path.Combine(_root, "thinker"), "--Model:adapters:thinker:enable_thinking=true",
            "--lora", "plain=" + Path.Combine(_root, "plain"));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // mapped weights may still be open: only temp litter
        }
    }

    private async Task<JsonObject> PostAsync(string path, string body)
    {
        using var client = _app.Client();
        var response = await client.PostAsync(path, ModelServer.Json(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    [Theory]
    [InlineData(ModelServer.Model, false)]
    [InlineData("plain", false)]
    [InlineData("thinker", true)]
    public async Task EachServedModelRendersWithItsOwnDefaultAndTokenizeAgreesWithChat(string model, bool thinks)
    {
        const string messages = """[{"role": "user", "content": "Hi"}]""";
        var tokenized = await PostAsync("/tokenize", $$"""{"model": "{{model}}", "messages": {{messages}}}""");
        string prompt = (string)tokenized["prompt"]!;
        Assert.Equal(!thinks, prompt.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", StringComparison.Ordinal));
        Assert.EndsWith(thinks ? "<|im_start|>assistant\n" : "</think>\n\n", prompt);

        var chat = await PostAsync("/v1/chat/completions",
            $$"""{"model": "{{model}}", "messages": {{messages}}, "max_tokens": 1, "return_token_ids": true}""");
        Assert.Equal(tokenized["tokens"]!.AsArray().Select(t => (int)t!), chat["prompt_token_ids"]!.AsArray().Select(t => (int)t!));
    }

    [Fact]
    public async Task TheRequestsOwnSwitchStillWins()
    {
        var on = await PostAsync("/tokenize", """{"model": "plain", "messages": [{"role": "user", "content": "Hi"}], "enable_thinking": true}""");
        Assert.EndsWith("<|im_start|>assistant\n", (string)on["prompt"]!);
        var off = await PostAsync("/tokenize", """
            {"model": "thinker", "messages": [{"role": "user", "content": "Hi"}], "chat_template_kwargs": {"enable_thinking": false}}
            """);
        Assert.EndsWith("</think>\n\n", (string)off["prompt"]!);
    }

    [Fact]
    public async Task AdaptersAreListedWithTheirParentAndContext()
    {
        using var client = _app.Client();
        var data = JsonNode.Parse(await client.GetStringAsync("/v1/models"))!["data"]!.AsArray();
        var thinker = data.Single(m => (string?)m!["id"] == "thinker")!;
        Assert.Equal(ModelServer.Model, (string?)thinker["parent"]);
        Assert.Equal(4096, (int)thinker["max_model_len"]!);
    }
}

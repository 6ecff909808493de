using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.Generator;
using QwenAspire.Text.Assets;

namespace QwenAspire.FunctionalTests.Quirks;

/// <summary>
/// A checkpoint whose chat template refuses a system message after the first (as several Qwen and other
/// templates do with <c>raise_exception</c>): the server renders the conversation with its system messages merged
/// into one leading message instead of answering 400, and still refuses what the template refuses for other reasons.
/// </summary>
public sealed class StrictTemplateTests : IAsyncLifetime
{
    private const string Strict = """
        {%- for message in messages %}{%- if message.role == 'system' and not loop.first %}{{- raise_exception('System message must be at the beginning.') }}{%- endif %}{%- endfor %}
        {%- if messages[-1].role == 'assistant' and add_generation_prompt %}{{- raise_exception('Nothing to answer.') }}{%- endif %}
        """;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "qwenaspire-strict-template-" + Guid.NewGuid().ToString("N")[..8]);
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        DemoModel.Write(_dir);
        using var reader = new StreamReader(Qwen3Assets.OpenRead(Qwen3Assets.ChatTemplateJinja));
        File.WriteAllText(Path.Combine(_dir, "chat_template.jinja"), Strict + reader.ReadToEnd());
        _app = await TestApp.StartAsync("--model", _dir, "--served-model-name", "strict");
        await ModelServer.WaitReadyAsync(_app);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // mapped weights may still be open: only temp litter
        }
    }

    private async Task<(int Status, JsonNode Body)> TokenizeAsync(string messages)
    {
        using var client = _app.Client();
        var response = await client.PostAsync("/tokenize", ModelServer.Json($$"""{"model": "strict", "messages": {{messages}}}"""));
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task SeveralSystemMessagesAreMergedIntoOneLeadingSystemMessage()
    {
        var (status, body) = await TokenizeAsync("""
            [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"},
             {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Again"}]
            """);
        Assert.Equal(200, status);
        Assert.StartsWith("<|im_start|>system\nBe brief.\n\nAnswer in French.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n",
            (string)body["prompt"]!);
    }

    [Fact]
    public async Task WhatTheTemplateRefusesForAnotherReasonIsStill400()
    {
        var (status, body) = await TokenizeAsync("""
            [{"role": "user", "content": "Hi"}, {"role": "system", "content": "late"}, {"role": "assistant", "content": "Hello"}]
            """);
        Assert.Equal(400, status);
        Assert.Equal("invalid_conversation", (string?)body["error"]!["code"]);
    }
}

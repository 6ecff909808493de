using System.Net;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>
/// How clients see and switch Qwen3's thinking, on the scripted model (it really thinks: "&lt;think&gt;Let me
/// think.&lt;/think&gt;" then "Hello!", or only "Hello!" when the prompt closes the think block).
/// </summary>
[Collection(ScriptedCollection.Name)]
public sealed class ScriptedReasoningTests(ScriptedServers servers)
{
    private static string Body(string extra = "", bool stream = false) => $$"""
        {"model": "{{ScriptedServers.ChatModel}}", "messages": [{"role": "user", "content": "Say hello."}], "temperature": 0,
         "stream": {{(stream ? "true" : "false")}}{{extra}}}
        """;

    [Fact]
    public async Task ReasoningIsSentAsReasoningContentAndAsReasoning()
    {
        var message = (await ScriptedChatTests.PostAsync(servers.Chat, Body()))["choices"]![0]!["message"]!;
        Assert.Equal(ScriptedServers.Reasoning, (string?)message["reasoning_content"]);
        Assert.Equal(ScriptedServers.Reasoning, (string?)message["reasoning"]);

        var deltas = (await ScriptedChatTests.StreamAsync(servers.Chat, Body(stream: true)))
            .Where(e => e["choices"]!.AsArray().Count > 0).Select(e => e["choices"]![0]!["delta"]!).ToList();
        Assert.Equal(ScriptedServers.Reasoning, string.Concat(deltas.Select(d => (string?)d["reasoning"])));
        Assert.All(deltas, d => Assert.Equal((string?)d["reasoning_content"], (string?)d["reasoning"]));
    }

    [Theory]
    [InlineData("none", false)]
    [InlineData("minimal", false)]
    [InlineData("low", true)]
    [InlineData("high", true)]
    public async Task ReasoningEffortNoneOrMinimalTurnsThinkingOff(string effort, bool thinks)
    {
        var message = (await ScriptedChatTests.PostAsync(servers.Chat, Body($", \"reasoning_effort\": \"{effort}\"")))["choices"]![0]!["message"]!;
        Assert.Equal(thinks ? ScriptedServers.Reasoning : null, (string?)message["reasoning_content"]);
        Assert.Equal(ScriptedServers.Answer, (string?)message["content"]);
    }

    [Fact]
    public async Task EnableThinkingWinsOverReasoningEffortAndAnUnknownEffortIs400()
    {
        var message = (await ScriptedChatTests.PostAsync(servers.Chat, Body(", \"reasoning_effort\": \"high\", \"enable_thinking\": false")))["choices"]![0]!["message"]!;
        Assert.Null((string?)message["reasoning_content"]);

        using var client = servers.Chat.Client();
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(Body(", \"reasoning_effort\": \"extreme\"")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("reasoning_effort", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["param"]);
    }

    [Fact]
    public async Task DifyDefaultModeGetsTheAnswerWithinFiveTokensFromAServerThatDoesNotThinkByDefault()
    {
        // Dify's "OpenAI compatible" mode sends no thinking switch, and "Only Non-Thinking Mode" drops reasoning: with
        // generation.enable_thinking false the 5 tokens go to the answer.
        string dir = Path.Combine(Path.GetTempPath(), "qwenaspire-scripted-nothink-" + Guid.NewGuid().ToString("N")[..8]);
        ScriptedModel.Write(dir, "scripted");
        var app = await TestApp.StartAsync("--model", dir, "--served-model-name", ScriptedServers.ChatModel, "--Generation:enable_thinking=false");
        try
        {
            await ModelServer.WaitReadyAsync(app);
            using var client = app.Client();
            var response = await client.PostAsync("v1/chat/completions", ModelServer.Json($$"""
                {"model": "{{ScriptedServers.ChatModel}}", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 5,
                 "stream": true, "stream_options": {"include_usage": true}, "user": "dify-user"}
                """));
            var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
            Assert.True(done);
            var deltas = events.Where(e => e["choices"]!.AsArray().Count > 0).Select(e => e["choices"]![0]!["delta"]!).ToList();
            Assert.Equal(ScriptedServers.Answer, string.Concat(deltas.Select(d => (string?)d["content"])));
            Assert.All(deltas, d => Assert.Null(d["reasoning_content"]));
        }
        finally
        {
            await app.DisposeAsync();
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // mapped weights may still be open: only temp litter
            }
        }
    }
}

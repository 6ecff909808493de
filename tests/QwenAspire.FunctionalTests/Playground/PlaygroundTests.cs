using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.FunctionalTests.Scripted;

namespace QwenAspire.FunctionalTests.Playground;

/// <summary>
/// The playground page (GET /) in a real headless browser against the real server serving the scripted model:
/// it lists the served models with the key typed in, streams the answer with the thinking in a collapsed block,
/// shows tool calls, times each answer, and keeps the key in local storage. Fails, never skips, without a browser.
/// </summary>
[Collection(ScriptedCollection.Name)]
public sealed class PlaygroundTests(ScriptedServers servers)
{
    /// <summary>Set to a .png path to keep a screenshot of the answered page (docs/playground.png comes from here).</summary>
    public const string ScreenshotVariable = "QWENASPIRE_PLAYGROUND_SCREENSHOT";

    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("/")]
    [InlineData("/playground")]
    public async Task PageAndItsAssetsAreServedWithoutAKeyWhileTheApiStillNeedsOne(string path)
    {
        using var anonymous = servers.Chat.Client(key: null);
        var page = await anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"/playground/playground.js\"", html);
        Assert.DoesNotContain("http", html.Replace("http-equiv", ""), StringComparison.OrdinalIgnoreCase); // nothing from elsewhere
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());

        foreach (var (asset, type) in new[] { ("/playground/playground.js", "text/javascript"), ("/playground/playground.css", "text/css") })
        {
            var response = await anonymous.GetAsync(asset);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 500);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/playground/other.js")).StatusCode);
    }

    [Fact]
    public async Task BrowserStreamsTheScriptedAnswerWithCollapsedThinkingAndTimings()
    {
        using var cts = new CancellationTokenSource(Budget);
        var ct = cts.Token;
        await using var browser = await HeadlessBrowser.LaunchAsync(ct);
        try
        {
            await browser.NavigateAsync(servers.Chat.BaseAddress, ct);
            // Without a key the page still loads and says why it lists no model.
            await browser.WaitForAsync("document.getElementById('status').textContent.startsWith('401')", ct);

            await SetKeyAsync(browser, ct);
            await browser.WaitForAsync($"[...document.querySelectorAll('#model option')].some(o => o.value === {Js(ScriptedServers.ChatModel)})", ct);
            await browser.EvaluateAsync($"document.getElementById('model').value = {Js(ScriptedServers.ChatModel)}", ct);
            await browser.EvaluateAsync("document.getElementById('temperature').value = '0'", ct);

            // Record every text the answer's thinking and content show while it streams.
            await browser.EvaluateAsync("""
                window.__seen = { reasoning: [], content: [] };
                new MutationObserver(records => {
                  for (const r of records) {
                    const box = r.target.closest ? r.target : r.target.parentElement;
                    for (const node of r.addedNodes) {
                      if (box.matches('.reasoning')) window.__seen.reasoning.push(node.textContent);
                      if (box.matches('.message.assistant .content')) window.__seen.content.push(node.textContent);
                    }
                  }
                }).observe(document.getElementById('messages'), { childList: true, subtree: true });
                true
                """, ct);
            await SendAsync(browser, "Say hello.", ct);

            var answer = (await browser.EvaluateAsync("""
                (() => {
                  const m = document.querySelector('.message.assistant');
                  const thinking = m.querySelector('details.thinking');
                  return { content: m.querySelector('.content').textContent, reasoning: thinking.querySelector('.reasoning').textContent,
                           thinkingShown: !thinking.hidden, thinkingOpen: thinking.open, summary: thinking.querySelector('summary').textContent,
                           stats: m.querySelector('.stats').textContent, user: document.querySelector('.message.user .content').textContent,
                           seen: window.__seen };
                })()
                """, ct))!;
            Assert.Equal(ScriptedServers.Answer, (string?)answer["content"]);
            Assert.Equal(ScriptedServers.Reasoning, (string?)answer["reasoning"]);
            Assert.True((bool)answer["thinkingShown"]!, "the thinking block is shown");
            Assert.False((bool)answer["thinkingOpen"]!, "the thinking block starts collapsed");
            Assert.Equal("Thinking", (string?)answer["summary"]);
            Assert.Equal("Say hello.", (string?)answer["user"]);
            string stats = (string)answer["stats"]!;
            Assert.Matches(@"^TTFT \d+ ms · \d+(\.\d)? tok/s · 10 tokens · finish: stop$", stats);

            // Streamed: the thinking grew token by token, each text a prefix of the next.
            var reasoningSteps = answer["seen"]!["reasoning"]!.AsArray().Select(n => (string)n!).ToList();
            Assert.True(reasoningSteps.Count > 2, $"thinking shown in {reasoningSteps.Count} step(s): {string.Join(" | ", reasoningSteps)}");
            for (int i = 1; i < reasoningSteps.Count; i++) Assert.StartsWith(reasoningSteps[i - 1], reasoningSteps[i]);
            Assert.Equal(ScriptedServers.Answer, answer["seen"]!["content"]!.AsArray().Select(n => (string)n!).Last());

            if (Environment.GetEnvironmentVariable(ScreenshotVariable) is { Length: > 0 } screenshot)
            {
                await browser.EvaluateAsync("document.querySelector('details.thinking').open = true; document.activeElement.blur(); true", ct);
                await File.WriteAllBytesAsync(screenshot, await browser.ScreenshotAsync(ct), ct);
            }

            // The key survives a reload (local storage), and the models load with it.
            await browser.NavigateAsync(new Uri(servers.Chat.BaseAddress, "/playground"), ct);
            Assert.Equal(TestApp.Key, (string?)await browser.EvaluateAsync("document.getElementById('api-key').value", ct));
            Assert.Equal(TestApp.Key, (string?)await browser.EvaluateAsync("localStorage.getItem('qwenaspire.playground.apiKey')", ct));
            await browser.WaitForAsync("document.getElementById('status').textContent.includes('model(s) served')", ct);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException || browser.PageErrors.Count > 0)
        {
            throw new InvalidOperationException("page errors: " + string.Join("\n", browser.PageErrors), ex);
        }
    }

    [Fact]
    public async Task BrowserShowsTheToolCallTheModelMakes()
    {
        using var cts = new CancellationTokenSource(Budget);
        var ct = cts.Token;
        await using var browser = await HeadlessBrowser.LaunchAsync(ct);
        await browser.NavigateAsync(servers.Tool.BaseAddress, ct);
        await SetKeyAsync(browser, ct);
        await browser.WaitForAsync($"document.getElementById('model').value === {Js(ScriptedServers.ToolModel)}", ct);
        const string tools = """[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""";
        await browser.EvaluateAsync($"document.getElementById('tools').value = {Js(tools)}", ct);
        await SendAsync(browser, "What's the weather in Paris?", ct);

        var call = (await browser.EvaluateAsync("""
            (() => { const m = document.querySelector('.message.assistant');
                     return { calls: [...m.querySelectorAll('.tool-call')].map(c => c.textContent), label: m.querySelector('.tool-call')?.getAttribute('aria-label'),
                              content: m.querySelector('.content').textContent, stats: m.querySelector('.stats').textContent }; })()
            """, ct))!;
        string shown = (string)Assert.Single(call["calls"]!.AsArray())!;
        Assert.StartsWith("get_weather(", shown);
        var arguments = JsonDocument.Parse(shown["get_weather(".Length..^1]).RootElement;
        Assert.Equal("Paris", arguments.GetProperty("city").GetString());
        Assert.Equal("Tool call get_weather", (string?)call["label"]);
        Assert.Equal("", (string?)call["content"]);
        Assert.EndsWith("finish: tool_calls", (string)call["stats"]!);
    }

    private static async Task SetKeyAsync(HeadlessBrowser browser, CancellationToken ct) =>
        await browser.EvaluateAsync($"(() => {{ const k = document.getElementById('api-key'); k.value = {Js(TestApp.Key)}; k.dispatchEvent(new Event('change')); return true; }})()", ct);

    /// <summary>Types the message and presses Enter, as a user would; waits until the answer is complete.</summary>
    private static async Task SendAsync(HeadlessBrowser browser, string text, CancellationToken ct)
    {
        await browser.EvaluateAsync($$"""
            (() => { const p = document.getElementById('prompt'); p.focus(); p.value = {{Js(text)}};
                     p.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true })); return true; })()
            """, ct);
        await browser.WaitForAsync("document.querySelector('.message.assistant')?.dataset.state !== 'streaming' && document.querySelector('.message.assistant .stats')?.textContent !== ''", ct);
        string? state = (string?)await browser.EvaluateAsync("document.querySelector('.message.assistant').dataset.state", ct);
        Assert.True(state == "done", $"answer ended '{state}': " + await browser.EvaluateAsync("document.querySelector('.message.assistant').textContent", ct));
    }

    private static string Js(string value) => JsonSerializer.Serialize(value);
}

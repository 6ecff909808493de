using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>A tool call the model really generates (<c>&lt;tool_call&gt;{…}&lt;/tool_call&gt;&lt;|im_end|&gt;</c>), parsed into tool_calls.</summary>
[Collection(ScriptedCollection.Name)]
public sealed class ScriptedToolCallTests(ScriptedServers servers)
{
    private static object Body(bool stream) => new Dictionary<string, object?>
    {
        ["model"] = ScriptedServers.ToolModel,
        ["stream"] = stream,
        ["messages"] = new[] { new { role = "user", content = "What's the weather in Paris?" } },
        ["tools"] = JsonNode.Parse("""
            [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
            """),
    };

    private static void AssertParisArguments(string? arguments)
    {
        Assert.NotNull(arguments);
        using var doc = JsonDocument.Parse(arguments);
        Assert.Equal("Paris", doc.RootElement.GetProperty("city").GetString());
        Assert.Single(doc.RootElement.EnumerateObject());
    }

    [Fact]
    public async Task NonStreamingAnswerCarriesTheToolCall()
    {
        var json = await ScriptedChatTests.PostAsync(servers.Tool, Body(stream: false));
        var choice = json["choices"]![0]!;
        Assert.Equal("tool_calls", (string?)choice["finish_reason"]);
        Assert.Null((string?)choice["message"]!["content"]);
        var call = Assert.Single(choice["message"]!["tool_calls"]!.AsArray())!;
        Assert.Equal("function", (string?)call["type"]);
        Assert.StartsWith("call_", (string?)call["id"]);
        Assert.Equal("get_weather", (string?)call["function"]!["name"]);
        AssertParisArguments((string?)call["function"]!["arguments"]);
    }

    [Fact]
    public async Task StreamingAnswerCarriesTheToolCallInDeltas()
    {
        var events = await ScriptedChatTests.StreamAsync(servers.Tool, Body(stream: true));
        var choices = events.Where(e => e["choices"]!.AsArray().Count > 0).Select(e => e["choices"]![0]!).ToList();
        var calls = choices.SelectMany(c => c["delta"]!["tool_calls"]?.AsArray() ?? []).ToList();
        Assert.NotEmpty(calls);
        Assert.All(calls, c => Assert.Equal(0, (int)c!["index"]!));
        Assert.Equal("get_weather", string.Concat(calls.Select(c => (string?)c!["function"]?["name"] ?? "")));
        AssertParisArguments(string.Concat(calls.Select(c => (string?)c!["function"]?["arguments"] ?? "")));
        Assert.Equal("", string.Concat(choices.Select(c => (string?)c["delta"]!["content"] ?? "")));
        Assert.Equal("tool_calls", choices.Select(c => (string?)c["finish_reason"]).Last(f => f is not null));
    }
}

using System.Text.Json;
using Microsoft.Extensions.AI;

namespace QwenAspire.Sdk.Tests;

/// <summary>
/// Tool round trips through <see cref="FunctionInvokingChatClient"/> against recorded server answers (a tool call,
/// then the final answer). Forced calls against the live server: FunctionalTests/Sdk/SdkToolCallLiveTests.
/// </summary>
public sealed class FunctionInvocationTests
{
    private readonly List<(string City, string Unit)> _calls = [];

    private string GetWeather(string city, string unit)
    {
        _calls.Add((city, unit));
        return $"18 {unit} and sunny in {city}";
    }

    [Fact]
    public async Task FunctionInvokingClientRunsTheToolAndSendsItsResultBack()
    {
        var server = new RecordedServer().Json("chat-tool-call.json").Json("chat-after-tool.json");
        using var client = server.CreateClient().AsBuilder().UseFunctionInvocation().Build();
        var options = new ChatOptions { Tools = [AIFunctionFactory.Create(GetWeather, "get_weather")] };

        var response = await client.GetResponseAsync("Weather in Paris?", options);

        Assert.Equal("It is 18 °C and sunny in Paris.", response.Text);
        Assert.Equal([("Paris", "celsius")], _calls);
        Assert.Equal(2, server.Requests.Count);
        var followUp = server.Requests[1].Json.GetProperty("messages");
        var assistant = followUp[1];
        Assert.Equal("call_8f2d1a6c", assistant.GetProperty("tool_calls")[0].GetProperty("id").GetString());
        var tool = followUp[2];
        Assert.Equal("tool", tool.GetProperty("role").GetString());
        Assert.Equal("call_8f2d1a6c", tool.GetProperty("tool_call_id").GetString());
        Assert.Equal("18 celsius and sunny in Paris", tool.GetProperty("content").GetString());
        Assert.True(server.Requests[1].Json.TryGetProperty("tools", out _));
        // Usage from both turns is summed by the invoking client.
        Assert.Equal(222 + 255, response.Usage?.TotalTokenCount);
    }

    [Fact]
    public async Task StreamingRoundTripRunsBothStreamedToolCalls()
    {
        var times = new List<string>();
        var server = new RecordedServer().Sse("stream-tool-calls.sse").Sse("stream-reasoning.sse");
        using var client = server.CreateClient().AsBuilder().UseFunctionInvocation().Build();
        var options = new ChatOptions
        {
            Tools =
            [
                AIFunctionFactory.Create((string city) => GetWeather(city, "celsius"), "get_weather"),
                AIFunctionFactory.Create((string zone) => { times.Add(zone); return "14:05"; }, "get_time"),
            ],
        };

        var text = "";
        await foreach (var update in client.GetStreamingResponseAsync("Weather and time in Paris?", options))
            text += update.Text;

        Assert.Equal("Paris ✓", text);
        Assert.Equal([("Paris", "celsius")], _calls);
        Assert.Equal(["Europe/Paris"], times);
        var toolMessages = server.Requests[1].Json.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() == "tool")
            .Select(m => (m.GetProperty("tool_call_id").GetString(), m.GetProperty("content").GetString()))
            .ToList();
        Assert.Equal([("call_a1", "18 celsius and sunny in Paris"), ("call_b2", "14:05")], toolMessages);
    }

    [Fact]
    public async Task MalformedToolArgumentsAreReportedToTheModelNotThrown()
    {
        var malformed = RecordedServer.Read("chat-tool-call.json")
            .Replace("""{\"city\": \"Paris\", \"unit\": \"celsius\"}""", """{\"city\": \"Par""");
        var server = new RecordedServer()
            .JsonText(malformed)
            .Json("chat-after-tool.json");
        using var client = server.CreateClient().AsBuilder().UseFunctionInvocation().Build();

        await client.GetResponseAsync("Weather?", new ChatOptions { Tools = [AIFunctionFactory.Create(GetWeather, "get_weather")] });

        Assert.Empty(_calls);
        var tool = server.Requests[1].Json.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "tool");
        Assert.Contains("Error", tool.GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.String, tool.GetProperty("tool_call_id").ValueKind);
    }
}

using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.UnitTests.Serving;

public sealed class ToolCallParserTests
{
    private const string OneCall = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";

    [Fact]
    public void ParsesOneCallWithObjectArguments()
    {
        var (content, calls) = ToolCallParser.ParseAll(OneCall);
        Assert.Null(content);
        var call = Assert.Single(calls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("{\"city\": \"Paris\"}", call.Arguments);
        Assert.StartsWith("call_", call.Id);
    }

    [Fact]
    public void ParsesSeveralCallsInOneTurnWithIndexes()
    {
        string text = "I will check both.\n" + OneCall + "\n" + OneCall.Replace("Paris", "北京");
        var (content, calls) = ToolCallParser.ParseAll(text);
        Assert.Equal("I will check both.", content);
        Assert.Equal([0, 1], calls.Select(c => c.Index));
        Assert.Equal("{\"city\": \"北京\"}", calls[1].Arguments);
        Assert.NotEqual(calls[0].Id, calls[1].Id);
    }

    [Fact]
    public void StringArgumentsAreKeptAsTheirText()
    {
        var (_, calls) = ToolCallParser.ParseAll("<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>");
        Assert.Equal("{\"a\": 1}", Assert.Single(calls).Arguments);
    }

    [Theory]
    [InlineData("<tool_call>{\"name\": \"f\", \"arguments\": {</tool_call>")]
    [InlineData("<tool_call>{\"arguments\": {}}</tool_call>")]
    [InlineData("<tool_call>not json at all</tool_call>")]
    [InlineData("<tool_call>{\"name\": \"f\", \"arguments\": {}}")]
    public void MalformedOrUnterminatedBlocksFallBackToContent(string text)
    {
        var (content, calls) = ToolCallParser.ParseAll(text);
        Assert.Empty(calls);
        Assert.Equal(text, content);
    }

    [Fact]
    public void TextWithoutTagsPassesThroughUnchanged()
    {
        Assert.Equal(("a <tool b", 0), (ToolCallParser.ParseAll("a <tool b").Content, ToolCallParser.ParseAll("a <tool b").Calls.Count));
    }

    [Fact]
    public void StreamingCharByCharGivesTheSameCallsAndContent()
    {
        string text = "Let me look.\n" + OneCall + "\n" + OneCall.Replace("get_weather", "get_time") + "\n";
        var parser = new ToolCallParser();
        var events = text.SelectMany(ch => parser.Feed(ch.ToString())).Concat(parser.Flush()).ToList();
        var calls = events.OfType<ToolCallParser.ToolCallEvent>().ToList();
        string content = string.Concat(events.OfType<ToolCallParser.ContentEvent>().Select(e => e.Text));
        var (wholeContent, wholeCalls) = ToolCallParser.ParseAll(text);
        Assert.Equal(wholeCalls.Select(c => (c.Index, c.Name, c.Arguments)), calls.Select(c => (c.Index, c.Name, c.Arguments)));
        Assert.Equal(wholeContent, content.Trim());
        Assert.DoesNotContain("<tool_call>", content);
    }
}

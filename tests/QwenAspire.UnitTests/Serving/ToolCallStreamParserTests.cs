using System.Text.Json;
using QwenAspire.InferenceApi.Serving;
using Parser = QwenAspire.InferenceApi.Serving.ToolCallStreamParser;

namespace QwenAspire.UnitTests.Serving;

/// <summary>The incremental tool-call reader: every split of the text gives the same calls, arguments stream before the close tag.</summary>
public sealed class ToolCallStreamParserTests
{
    private const string OneCall = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris \\\"}\", \"n\": [1, {\"a\": 2}]}}\n</tool_call>";

    private sealed record Result(string Content, List<(int Index, string Id, string Name, string Arguments, bool Complete)> Calls, List<string> Streamed);

    private static Result Run(IEnumerable<string> pieces)
    {
        var parser = new Parser();
        var events = pieces.SelectMany(parser.Feed).ToList(); // fed first: Flush must come after every piece
        events.AddRange(parser.Flush());
        var content = string.Concat(events.OfType<Parser.Content>().Select(c => c.Text));
        var started = events.OfType<Parser.CallStarted>().ToList();
        var ended = events.OfType<Parser.CallEnded>().ToList();
        Assert.Equal(started.Select(s => (s.Index, s.Id, s.Name)), ended.Select(e => (e.Index, e.Id, e.Name)));
        var streamed = started.Select(s => string.Concat(events.OfType<Parser.ArgumentsDelta>().Where(d => d.Index == s.Index).Select(d => d.Fragment))).ToList();
        // Per call: start, then its deltas, then its end, and no event of another call in between.
        foreach (var s in started)
        {
            var mine = events.Select((e, i) => (e, i)).Where(x => x.e is Parser.CallStarted c && c.Index == s.Index || x.e is Parser.ArgumentsDelta d && d.Index == s.Index || x.e is Parser.CallEnded n && n.Index == s.Index).ToList();
            Assert.IsType<Parser.CallStarted>(mine[0].e);
            Assert.IsType<Parser.CallEnded>(mine[^1].e);
        }
        return new Result(content, [.. ended.Select(e => (e.Index, e.Id, e.Name, e.Arguments, e.Complete))], streamed);
    }

    private static IEnumerable<string[]> EverySplit(string text)
    {
        for (var i = 0; i <= text.Length; i++) yield return [text[..i], text[i..]];
        yield return [.. text.Select(c => c.ToString())];
    }

    [Fact]
    public void EverySplitPointGivesTheSameCallsAndTheStreamedArgumentsAreTheObject()
    {
        var text = "Let me check.\n" + OneCall + "\n" + OneCall.Replace("get_weather", "get_time").Replace("Paris", "北京") + "\n";
        var whole = Run([text]);
        Assert.Equal("Let me check.\n", whole.Content);
        Assert.Equal(["get_weather", "get_time"], whole.Calls.Select(c => c.Name));
        Assert.Equal([0, 1], whole.Calls.Select(c => c.Index));
        Assert.All(whole.Calls, c => Assert.True(c.Complete));
        Assert.Equal("{\"city\": \"Paris \\\"}\", \"n\": [1, {\"a\": 2}]}", whole.Calls[0].Arguments);
        foreach (var split in EverySplit(text))
        {
            var r = Run(split);
            Assert.Equal(whole.Content.Trim(), r.Content.Trim()); // whitespace next to a tag may be dropped, depending on the split
            Assert.Equal(whole.Calls.Select(c => (c.Index, c.Name, c.Arguments, c.Complete)), r.Calls.Select(c => (c.Index, c.Name, c.Arguments, c.Complete)));
            Assert.Equal(r.Calls.Select(c => c.Arguments), r.Streamed);
            foreach (var args in r.Streamed) JsonDocument.Parse(args).Dispose();
        }
    }

    [Fact]
    public void ArgumentsStreamBeforeTheBlockCloses()
    {
        var parser = new Parser();
        var events = parser.Feed("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"q\": \"abc").ToList();
        Assert.Equal("f", Assert.Single(events.OfType<Parser.CallStarted>()).Name);
        Assert.Equal("{\"q\": \"abc", string.Concat(events.OfType<Parser.ArgumentsDelta>().Select(d => d.Fragment)));
        events = [.. parser.Feed("def\"}}\n</tool")];
        Assert.Equal("def\"}", string.Concat(events.OfType<Parser.ArgumentsDelta>().Select(d => d.Fragment)));
        Assert.Empty(events.OfType<Parser.CallEnded>());
        Assert.True(Assert.Single(parser.Feed("_call>").OfType<Parser.CallEnded>()).Complete);
    }

    [Fact]
    public void ACallCutOffEndsIncompleteWithWhatWasWritten()
    {
        var r = Run(["<tool_call>\n{\"name\": \"f\", \"arguments\": {\"q\": \"ab"]);
        var call = Assert.Single(r.Calls);
        Assert.False(call.Complete);
        Assert.Equal("{\"q\": \"ab", call.Arguments);
        Assert.Equal("", r.Content);
    }

    [Theory]
    [InlineData("<tool_call>{\"arguments\": {\"a\": 1}, \"name\": \"f\"}</tool_call>", "f", "{\"a\": 1}")]
    [InlineData("<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>", "f", "{\"a\": 1}")]
    [InlineData("<tool_call>{\"name\": \"f\"}</tool_call>", "f", "{}")]
    public void OtherShapesAreReadWholeAtTheCloseTag(string text, string name, string arguments)
    {
        foreach (var split in EverySplit(text))
        {
            var call = Assert.Single(Run(split).Calls);
            Assert.Equal((name, arguments, true), (call.Name, call.Arguments, call.Complete));
        }
    }

    [Theory]
    [InlineData("<tool_call>not json at all</tool_call>")]
    [InlineData("<tool_call>{\"arguments\": {}}</tool_call>")]
    [InlineData("<tool_call>{\"name\": \"f\", \"arguments\": \"x")]
    public void MalformedBlocksThatNeverStartedFallBackToContent(string text)
    {
        foreach (var split in EverySplit(text))
        {
            var r = Run(split);
            Assert.Empty(r.Calls);
            Assert.Equal(text, r.Content);
        }
    }

    [Fact]
    public void TextWithoutTagsPassesThroughAndAPartialTagIsHeldBack()
    {
        var parser = new Parser();
        Assert.Equal("a ", string.Concat(parser.Feed("a <tool").OfType<Parser.Content>().Select(c => c.Text)));
        Assert.Equal("<tool b", string.Concat(parser.Feed(" b").Concat(parser.Flush()).OfType<Parser.Content>().Select(c => c.Text)));
    }

    [Fact]
    public void EachCallGetsItsOwnIdAndIndexAndTheTextAroundIsTheContent()
    {
        var text = "Intro.\n" + string.Concat(Enumerable.Range(0, 3).Select(i => OneCall.Replace("get_weather", $"f{i}") + "\n"));
        var r = Run([text]);
        Assert.Equal("Intro.", r.Content.Trim());
        Assert.Equal([(0, "f0"), (1, "f1"), (2, "f2")], r.Calls.Select(c => (c.Index, c.Name)));
        Assert.All(r.Calls, c => Assert.Matches("^call_[0-9a-f]{24}$", c.Id));
        Assert.Equal(3, r.Calls.Select(c => c.Id).Distinct().Count());
        Assert.All(r.Calls, c => Assert.Equal("{\"city\": \"Paris \\\"}\", \"n\": [1, {\"a\": 2}]}", c.Arguments));
    }
}

using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.UnitTests.Serving;

public sealed class ReasoningSplitterTests
{
    private static (string Reasoning, string Content) Whole(string text)
    {
        var s = new ReasoningSplitter();
        var a = s.Feed(text);
        var b = s.Flush();
        return (a.Reasoning + b.Reasoning, a.Content + b.Content);
    }

    private static (string Reasoning, string Content) CharByChar(string text)
    {
        var s = new ReasoningSplitter();
        string r = "", c = "";
        foreach (char ch in text)
        {
            var d = s.Feed(ch.ToString());
            r += d.Reasoning;
            c += d.Content;
        }
        var f = s.Flush();
        return (r + f.Reasoning, c + f.Content);
    }

    [Theory]
    [InlineData("<think>\nLet me see.\n</think>\n\nThe answer is 4.", "\nLet me see.\n", "The answer is 4.")]
    [InlineData("The answer is 4.", "", "The answer is 4.")]
    [InlineData("<think>\n\n</think>\n\n你好", "\n\n", "你好")]
    [InlineData("<think>cut off by max_tokens", "cut off by max_tokens", "")]
    [InlineData("<thinking is not a tag", "", "<thinking is not a tag")]
    [InlineData("a < b </think> c", "", "a < b </think> c")]
    [InlineData("  <think>x</think>y", "x", "y")]
    public void SplitsThinkingFromContent(string text, string reasoning, string content)
    {
        Assert.Equal((reasoning, content), Whole(text));
    }

    [Theory]
    [InlineData("<think>\nLet me see.\n</think>\n\nThe answer is 4.")]
    [InlineData("<think>思考中</think>答案是四。")]
    [InlineData("No thinking here, just < and > signs.")]
    [InlineData("<think>never closed")]
    public void StreamingCharByCharEqualsWholeText(string text)
    {
        Assert.Equal(Whole(text), CharByChar(text));
    }

    [Fact]
    public void PartialCloseTagIsHeldBackUntilDecided()
    {
        var s = new ReasoningSplitter();
        Assert.Equal("abc", s.Feed("<think>abc</th").Reasoning);
        var d = s.Feed("ink>done");
        Assert.Equal(("", "done"), (d.Reasoning, d.Content));
    }
}

using System.Text;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Generation;

public sealed class CompletionTrackerTests
{
    private static readonly string[] s_vocab = ["ab", "E", "ND", "x", "xxENDyy", "<eos>", "EN", "<stop>"];

    private static CompletionTracker Tracker(SamplingParams p, int maxContext = 1000) =>
        new(p, new HashSet<int> { 5 }, new BytesDecoder(Vocab(s_vocab)), maxContext);

    private static Dictionary<int, byte[]> Vocab(string[] tokens) =>
        tokens.Select((t, i) => (t, i)).ToDictionary(x => x.i, x => Encoding.UTF8.GetBytes(x.t));

    private static List<TokenOutcome> Run(CompletionTracker tracker, params int[] tokens)
    {
        var outcomes = new List<TokenOutcome>();
        for (var i = 0; i < tokens.Length && !tracker.Finished; i++)
            outcomes.Add(tracker.OnToken(tokens[i], 10 + i + 1, i + 1));
        return outcomes;
    }

    [Fact]
    public void StopStringSplitAcrossTokensIsNeverStreamed()
    {
        var outcomes = Run(Tracker(new SamplingParams { StopStrings = ["END"] }), 0, 1, 2, 3);
        Assert.Equal(["ab", "", ""], outcomes.Select(o => o.TextDelta));
        Assert.Equal(FinishReason.Stop, outcomes[^1].Finish);
        Assert.Equal("END", outcomes[^1].StopReason);
    }

    [Fact]
    public void HeldBackTextIsReleasedWhenTheStopStringDoesNotComplete()
    {
        var outcomes = Run(Tracker(new SamplingParams { StopStrings = ["END"] }), 0, 6, 3);
        Assert.Equal(["ab", "", "ENx"], outcomes.Select(o => o.TextDelta));
        Assert.All(outcomes, o => Assert.Null(o.Finish));
    }

    [Fact]
    public void HeldBackTextIsReleasedWhenMaxTokensEndsGeneration()
    {
        var outcomes = Run(Tracker(new SamplingParams { StopStrings = ["END"], MaxTokens = 2 }), 0, 1, 2);
        Assert.Equal(["ab", "E"], outcomes.Select(o => o.TextDelta));
        Assert.Equal(FinishReason.Length, outcomes[^1].Finish);
    }

    [Fact]
    public void StopStringInsideOneTokenCutsTheTextBeforeIt()
    {
        var outcomes = Run(Tracker(new SamplingParams { StopStrings = ["zz", "END"] }), 4);
        Assert.Equal("xx", outcomes[0].TextDelta);
        Assert.Equal("END", outcomes[0].StopReason);
    }

    [Fact]
    public void EosStopsWithoutTextAndIgnoreEosKeepsGoing()
    {
        var stopped = Run(Tracker(new SamplingParams()), 0, 5, 3);
        Assert.Equal(2, stopped.Count);
        Assert.Equal(new TokenOutcome("", FinishReason.Stop, null), stopped[^1]);

        var ignored = Run(Tracker(new SamplingParams { IgnoreEos = true }), 0, 5, 3);
        Assert.Equal(3, ignored.Count);
        Assert.Equal("<eos>", ignored[1].TextDelta);
    }

    [Fact]
    public void StopTokenIdStopsAndNamesTheToken()
    {
        var outcomes = Run(Tracker(new SamplingParams { StopTokenIds = [7] }), 0, 7);
        Assert.Equal(new TokenOutcome("", FinishReason.Stop, "7"), outcomes[^1]);
    }

    [Fact]
    public void ReachingTheContextLengthFinishesWithLength()
    {
        var tracker = Tracker(new SamplingParams(), maxContext: 12);
        var outcomes = Run(tracker, 0, 3, 3, 3);
        Assert.Equal(2, outcomes.Count); // totals 11, 12
        Assert.Equal(FinishReason.Length, outcomes[^1].Finish);
    }

    [Fact]
    public void MaxTokensFinishesWithLength()
    {
        var outcomes = Run(Tracker(new SamplingParams { MaxTokens = 3 }), 0, 3, 3, 3, 3);
        Assert.Equal(3, outcomes.Count);
        Assert.Equal(FinishReason.Length, outcomes[^1].Finish);
        Assert.Equal("abxx", string.Concat(outcomes.Select(o => o.TextDelta)));
    }

    [Fact]
    public void ACharacterSplitAcrossTokensArrivesWhole()
    {
        // "é" is C3 A9; a stop string starting with "é" must still be found and the character never cut.
        var vocab = new Dictionary<int, byte[]> { [0] = [0x61, 0xC3], [1] = [0xA9], [2] = [0x21] };
        var tracker = new CompletionTracker(new SamplingParams { StopStrings = ["é!"] }, new HashSet<int>(), new BytesDecoder(vocab), 100);
        Assert.Equal("a", tracker.OnToken(0, 1, 1).TextDelta);
        Assert.Equal("", tracker.OnToken(1, 2, 2).TextDelta); // "é" held: it may start "é!"
        var last = tracker.OnToken(2, 3, 3);
        Assert.Equal(("", FinishReason.Stop), (last.TextDelta, last.Finish));
    }
}

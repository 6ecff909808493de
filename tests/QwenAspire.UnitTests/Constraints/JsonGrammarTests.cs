using System.Text;
using System.Text.Json;
using QwenAspire.Engine.Sampling.Constraints;

namespace QwenAspire.UnitTests.Constraints;

public sealed class JsonGrammarTests
{
    private static GrammarState After(SchemaNode root, string text) => GrammarState.Initial(root).Advance(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"a\":1}")]
    [InlineData("{ \"a\" : [1, 2.5e-3, -0, 0.25E+2, true, false, null] ,\n  \"b\": {\"c\": \"x\\u00e9\\n\\\"\"}}")]
    [InlineData("{\"é中\":\"naïve ✓ 😀\",\"\":[[],{}]}")]
    public void AcceptsJsonObjects(string json)
    {
        var state = After(AnyNode.FreeObject, json);
        Assert.False(state.IsDead);
        Assert.True(state.IsAccepting);
        Assert.True(state.IsFinished);
    }

    [Theory]
    [InlineData("[]")] // json_object needs an object
    [InlineData(" {}")] // no whitespace around the top-level value
    [InlineData("{\"a\":01}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\" 1}")]
    [InlineData("{\"a\":\"\u0001\"}")]
    [InlineData("{\"a\":tru}")]
    [InlineData("{\"a\":1.}")]
    [InlineData("{\"a\":\"\\x\"}")]
    [InlineData("{\"a\":[1 2]}")]
    [InlineData("{}}")]
    [InlineData("{'a':1}")]
    public void RefusesWhatIsNotOneJsonObject(string text) => Assert.True(After(AnyNode.FreeObject, text).IsDead);

    [Fact]
    public void RefusesMalformedUtf8InStrings()
    {
        var prefix = Encoding.UTF8.GetBytes("{\"a\":\"");
        foreach (var bad in new byte[][] { [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF5], [0x80], [0xE0, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80] })
            Assert.True(GrammarState.Initial(AnyNode.FreeObject).Advance([.. prefix, .. bad]).IsDead);
        Assert.False(GrammarState.Initial(AnyNode.FreeObject).Advance([.. prefix, 0xF0, 0x9F, 0x98, 0x80]).IsDead);
    }

    [Fact]
    public void IncompleteObjectsAreNotAcceptingAndNumbersEndAtTheirParent()
    {
        Assert.False(After(AnyNode.FreeObject, "{\"a\":1").IsAccepting);
        Assert.False(After(AnyNode.FreeObject, "{\"a\":1").IsDead);
        Assert.True(After(SchemaNode.Any, "-12.5e3").IsAccepting); // a top-level number is complete at eos
        Assert.False(After(SchemaNode.Any, "-12.5e").IsAccepting);
    }

    [Fact]
    public void WhitespaceRunsAndNumberDigitsAreBounded()
    {
        Assert.True(After(AnyNode.FreeObject, "{" + new string(' ', JsonMachine.MaxWhitespaceRun + 1)).IsDead);
        Assert.False(After(AnyNode.FreeObject, "{" + new string(' ', JsonMachine.MaxWhitespaceRun)).IsDead);
        Assert.True(After(AnyNode.FreeObject, "{\"a\":" + new string('7', JsonMachine.MaxIntegerDigits + 1)).IsDead);
    }

    [Fact]
    public void NestingIsBoundedSoAModelCannotGrowTheStackWithoutLimit()
    {
        var deepest = new string('[', JsonMachine.MaxNestingDepth);
        Assert.False(After(SchemaNode.Any, deepest).IsDead);
        Assert.True(After(SchemaNode.Any, deepest + "[").IsDead);
        Assert.True(After(SchemaNode.Any, deepest + new string(']', JsonMachine.MaxNestingDepth)).IsAccepting);
        Assert.True(After(AnyNode.FreeObject, "{\"a\":" + new string('[', JsonMachine.MaxNestingDepth)).IsDead); // the object is level 1
    }

    [Fact]
    public void TheTrieMaskEqualsTestingEveryTokenOnTheRealVocabulary()
    {
        var vocabulary = ConstraintVocabularies.Qwen;
        var constraint = JsonConstraint.JsonObject(vocabulary);
        string[] texts = ["", "{", "{\"na", "{\"a\":", "{\"a\":12", "{\"a\":\"x", "{\"a\":\"x\\", "{\"a\":\"\\u00", "{\"a\":[true,", "{\"a\":{\"b\":null}"];
        var states = texts.Select(t => After(constraint.Root, t)).Append(GrammarState.Initial(constraint.Root).Advance([.. "{\"a\":\""u8, 0xE4]));
        foreach (var state in states)
        {
            var text = string.Join(" | ", state.Stacks.ToArray().Select(s => s.ToString()));
            var mask = constraint.MaskFor(state);
            var expected = 0;
            for (var id = 0; id < vocabulary.Count; id++)
            {
                var bytes = vocabulary.BytesOf(id);
                var allowed = !bytes.IsEmpty && !state.Advance(bytes).IsDead;
                if (allowed) expected++;
                Assert.True(allowed == mask.Allows(id, vocabulary.EosTokenIds) || vocabulary.IsEos(id), $"after '{text}': token {id} ({vocabulary.BytesOf(id).Length} bytes)");
            }
            Assert.Equal(expected, mask.Count);
            Assert.Equal(state.IsAccepting, mask.EosAllowed);
        }
    }

    [Fact]
    public void AfterTheClosingBraceOnlyEosIsAllowedAndForced()
    {
        var constraint = JsonConstraint.JsonObject(ConstraintVocabularies.Small);
        var mask = constraint.MaskFor(After(constraint.Root, "{}"));
        Assert.Equal(0, mask.Count);
        Assert.True(mask.EosAllowed);
        Assert.Equal(ConstraintVocabularies.SmallEos, mask.Forced);
        Assert.Equal(-1, constraint.MaskFor(After(constraint.Root, "")).Forced); // "{", "{\"", "{}" and "{\"a\"" all open it
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RandomWalksThroughTheMaskAlwaysEndInOneParsableObject(int seed)
    {
        var vocabulary = ConstraintVocabularies.Small;
        var constraint = JsonConstraint.JsonObject(vocabulary);
        var text = ConstrainedWalk.Run(constraint, new Random(seed), maxTokens: 4000);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
    }
}

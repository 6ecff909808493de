using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.Engine.Sampling.LogitsProcessors;

namespace QwenAspire.UnitTests.Constraints;

/// <summary>Forced tool calls on the real Qwen3 vocabulary: the framing uses the added tokens, names and arguments obey the tools.</summary>
public sealed class ToolCallGrammarTests
{
    private const string Weather = """{"type":"object","properties":{"city":{"type":"string","maxLength":8},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","days"],"additionalProperties":false}""";
    private const string Time = """{"type":"object","properties":{"zone":{"enum":["UTC","CET"]}},"required":["zone"],"additionalProperties":false}""";
    private static readonly Regex s_block = new("""<tool_call>\n\{"name": "(?<name>[^"]+)", "arguments": (?<args>.*?)\}\n</tool_call>""", RegexOptions.Singleline);

    private static ToolFunction Function(string name, string? schema, int i) =>
        new(name, schema is null ? null : JsonDocument.Parse(schema).RootElement.Clone(), $"tools[{i}].function.parameters");

    private static (List<int> Ids, string Text) Walk(JsonConstraint constraint, int seed)
    {
        var vocabulary = constraint.Vocabulary;
        var processor = (IForcingProcessor)constraint.Create();
        var rng = new Random(seed);
        var ids = new List<int>();
        var row = new float[vocabulary.Count];
        for (var step = 0; step < 2000; step++)
        {
            for (var i = 0; i < row.Length; i++) row[i] = (float)rng.NextDouble() * 4 + (vocabulary.IsEos(i) ? 2 : 0);
            processor.Process(row);
            var token = processor.ForcedToken;
            if (token < 0)
            {
                var finite = Enumerable.Range(0, row.Length).Where(i => !float.IsNegativeInfinity(row[i])).ToArray();
                token = finite.MaxBy(i => row[i] - Math.Log(-Math.Log(rng.NextDouble() + 1e-300)));
            }
            processor.OnGenerated(token);
            if (vocabulary.IsEos(token)) return (ids, ConstraintVocabularies.QwenTokenizer.Decode([.. ids], skipSpecialTokens: false));
            ids.Add(token);
        }
        throw new InvalidOperationException("no eos");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ForcedCallsUseTheAddedTokensAndValidArguments(bool parallel)
    {
        var vocabulary = ConstraintVocabularies.Qwen;
        var tokenizer = ConstraintVocabularies.QwenTokenizer;
        var open = tokenizer.TokenToId("<tool_call>")!.Value;
        var close = tokenizer.TokenToId("</tool_call>")!.Value;
        var constraint = new JsonConstraint(ToolCallGrammar.Compile([Function("get_weather", Weather, 0), Function("get_time", Time, 1), Function("ping", null, 2)], parallel, vocabulary), vocabulary);
        var validators = new Dictionary<string, JsonSchema> { ["get_weather"] = JsonSchema.FromText(Weather), ["get_time"] = JsonSchema.FromText(Time) };
        var counts = new List<int>();
        for (var seed = 0; seed < 8; seed++)
        {
            var (ids, text) = Walk(constraint, seed);
            var blocks = s_block.Matches(text);
            Assert.True(blocks.Count >= 1, text);
            Assert.Equal(text, string.Join("\n", blocks.Select(m => m.Value)));
            Assert.Equal(blocks.Count, ids.Count(i => i == open));
            Assert.Equal(blocks.Count, ids.Count(i => i == close));
            if (!parallel) Assert.Single(blocks);
            counts.Add(blocks.Count);
            foreach (Match m in blocks)
            {
                using var args = JsonDocument.Parse(m.Groups["args"].Value);
                var name = m.Groups["name"].Value;
                if (name == "ping") Assert.Empty(args.RootElement.EnumerateObject());
                else Assert.True(validators[name].Evaluate(args.RootElement).IsValid, m.Value);
            }
        }
        Assert.True(counts.Max() <= ToolCallGrammar.MaxParallelCalls);
        if (parallel) Assert.Contains(counts, c => c > 1);
    }

    [Fact]
    public void ANamedFunctionIsTheOnlyOneWritten()
    {
        var vocabulary = ConstraintVocabularies.Qwen;
        var constraint = new JsonConstraint(ToolCallGrammar.Compile([Function("get_time", Time, 1)], false, vocabulary), vocabulary);
        for (var seed = 0; seed < 3; seed++)
            Assert.Equal("get_time", s_block.Match(Walk(constraint, seed).Text).Groups["name"].Value);
    }

    [Fact]
    public void OrdinaryTokensCannotSpellTheTags()
    {
        var vocabulary = ConstraintVocabularies.Qwen;
        var root = ToolCallGrammar.Compile([Function("f", null, 0)], false, vocabulary);
        Assert.True(GrammarState.Initial(root).Advance("<tool_call>"u8).IsDead);
        var mask = new JsonConstraint(root, vocabulary).MaskFor(GrammarState.Initial(root));
        Assert.Equal(ConstraintVocabularies.QwenTokenizer.TokenToId("<tool_call>"), mask.Forced);
    }

    [Fact]
    public void UnsupportedParameterKeywordsNameTheToolPath()
    {
        var ex = Assert.Throws<UnsupportedSchemaException>(() => ToolCallGrammar.Compile(
            [Function("a", Time, 0), Function("b", """{"type":"object","properties":{"x":{"type":"number","multipleOf":1e-20}}}""", 1)], true, ConstraintVocabularies.Qwen));
        Assert.Equal("tools[1].function.parameters.properties.x.multipleOf", ex.Path);
    }
}

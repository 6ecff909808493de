using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;
using QwenAspire.Engine.Sampling.Constraints;

namespace QwenAspire.UnitTests.Constraints;

/// <summary>pattern, format and integer bounds: the regex subset against .NET's Regex, and walks judged by JsonSchema.Net with format assertion on.</summary>
public sealed class PatternConstraintTests
{
    private static readonly string[] s_patterns =
    [
        "^[a-z]+$", "^\\d{3}-\\d{2,4}$", "ab", "^(foo|bar)+baz?$", "^a|b$", "^[^0-9 ]*x$", "^(?:[A-F0-9]{2}:){2}[A-F0-9]{2}$",
        "^\\w+\\.\\w+$", "x.y", "^\\s*$", "^(a|b)*c{2,}$", "^[-+]?[0-9]{1,3}(\\.[0-9]+)?$", "^\\$\\(\\)\\[\\]$", "^[\\d\\-a]{0,3}$",
    ];

    [Fact]
    public void TheRegexSubsetAgreesWithDotNetRegexOnAsciiStrings()
    {
        var rng = new Random(5);
        const string alphabet = "abcfoxyzABF019-+.: $()[]\n_";
        foreach (var pattern in s_patterns)
        {
            var dfa = RegexCompiler.Compile(pattern);
            var regex = new Regex(pattern, RegexOptions.ECMAScript);
            var samples = new List<string> { "", "a", "abc", "123-45", "foobarbaz", "foo", "x", "AB:CD:EF", "ab.cd", "  ", "ababcc", "-12.5", "$()[]", "1-a" };
            for (var i = 0; i < 400; i++)
                samples.Add(new string([.. Enumerable.Range(0, rng.Next(0, 9)).Select(_ => alphabet[rng.Next(alphabet.Length)])]));
            // .NET's '$' also matches before a final newline (JavaScript's does not); such samples are left out.
            foreach (var s in samples.Where(s => !s.EndsWith('\n')))
                Assert.True(regex.IsMatch(s) == dfa.Matches(s), $"/{pattern}/ on '{s}': regex {regex.IsMatch(s)}");
        }
    }

    [Theory]
    [InlineData("(?=a)b")]
    [InlineData("(a)\\1")]
    [InlineData("\\bword")]
    [InlineData("\\p{L}+")]
    [InlineData("é+")]
    [InlineData("a^b")]
    [InlineData("a$b")]
    [InlineData("[z-a]")]
    [InlineData("a{2000}")]
    [InlineData("(ab")]
    [InlineData("^[^\\x00-\\x7F]{0}$[a]")]
    public void PatternsOutsideTheSubsetAreRefused(string pattern) =>
        Assert.Throws<RegexNotSupportedException>(() => RegexCompiler.Compile(pattern));

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(1L, 7L)]
    [InlineData(-5L, 5L)]
    [InlineData(-120L, -17L)]
    [InlineData(18L, 1234L)]
    [InlineData(100L, 100000L)]
    [InlineData(-1000L, 999L)]
    [InlineData(37L, 41L)]
    public void IntegerRangesAcceptExactlyTheirCanonicalIntegers(long lo, long hi)
    {
        var dfa = RegexCompiler.Compile(IntegerRanges.Pattern(lo, hi));
        for (var n = lo - 150; n <= hi + 150; n++)
            Assert.True((n >= lo && n <= hi) == dfa.Matches(n.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{n} in [{lo}, {hi}]");
        Assert.False(dfa.Matches("-0"));
        Assert.False(dfa.Matches("0" + Math.Max(1, lo)));
    }

    public static readonly string[] Schemas =
    [
        """{"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"},"tag":{"type":"string","pattern":"^(red|green|blue)(-[a-z]{1,4})?$"},"any":{"type":"string","pattern":"x","maxLength":6}},"required":["code","tag","any"],"additionalProperties":false}""",
        """{"type":"object","properties":{"day":{"type":"string","format":"date"},"at":{"type":"string","format":"date-time"},"t":{"type":"string","format":"time"},"id":{"type":"string","format":"uuid"}},"required":["day","at","t","id"],"additionalProperties":false}""",
        """{"type":"object","properties":{"mail":{"type":"string","format":"email"},"ip":{"type":"string","format":"ipv4"},"host":{"type":"string","format":"hostname"}},"required":["mail","ip","host"],"additionalProperties":false}""",
        """{"type":"object","properties":{"age":{"type":"integer","minimum":0,"maximum":130},"delta":{"type":"integer","exclusiveMinimum":-10,"exclusiveMaximum":10.5},"big":{"type":["integer","null"],"minimum":1000},"neg":{"type":"integer","maximum":-3}},"required":["age","delta","big","neg"],"additionalProperties":false}""",
        """{"type":"array","items":{"type":"string","pattern":"^[a-c]+$","minLength":2,"maxLength":4},"minItems":1,"maxItems":4}""",
    ];

    public static TheoryData<int> Cases() => [.. Enumerable.Range(0, Schemas.Length)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void WalksValidateWithFormatAssertionOn(int index)
    {
        var schemaText = Schemas[index];
        var validator = JsonSchema.FromText(schemaText);
        using var doc = JsonDocument.Parse(schemaText);
        var root = JsonSchemaCompiler.Compile(doc.RootElement.Clone());
        foreach (var (vocabulary, seeds) in new[] { (ConstraintVocabularies.Small, 16), (ConstraintVocabularies.Qwen, 3) })
        {
            var constraint = new JsonConstraint(root, vocabulary);
            for (var seed = 0; seed < seeds; seed++)
            {
                var text = ConstrainedWalk.Run(constraint, new Random(seed * 17 + index), maxTokens: 3000);
                using var output = JsonDocument.Parse(text);
                var result = validator.Evaluate(output.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
                var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
                Assert.True(result.IsValid, $"{text}\nis not valid against\n{schemaText}\n{string.Join("; ", errors)}");
            }
        }
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"(?!x)"}""", "schema.pattern")]
    [InlineData("""{"type":"string","format":"uri"}""", "schema.format")]
    [InlineData("""{"type":"string","format":"date","pattern":"^1"}""", "schema.format")]
    [InlineData("""{"type":"string","pattern":"^abcdef$","maxLength":3}""", "schema.pattern")]
    [InlineData("""{"type":"number","minimum":1e30}""", "schema.minimum")]
    [InlineData("""{"type":"number","exclusiveMinimum":2.5,"maximum":2.5}""", "schema.exclusiveMinimum")]
    [InlineData("""{"type":"number","exclusiveMaximum":-1e17}""", "schema.exclusiveMaximum")]
    [InlineData("""{"type":"number","multipleOf":-1}""", "schema.multipleOf")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""", "schema.minimum")]
    [InlineData("""{"type":"integer","maximum":"x"}""", "schema.maximum")]
    public void UnenforceableStringAndNumberKeywordsAreNamed(string schema, string path)
    {
        using var doc = JsonDocument.Parse(schema);
        var ex = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaCompiler.Compile(doc.RootElement.Clone()));
        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void NamesOutsideTheJsonSchemaVocabularyAreAnnotations()
    {
        // Semantic Kernel writes a function's description as "condition"; validators ignore unknown keywords, so does the grammar.
        using var doc = JsonDocument.Parse("""{"type":"object","condition":"Weather","x-extra":{"a":1},"properties":{"d":{"type":"integer","x-unit":"days"}},"required":["d"]}""");
        var root = JsonSchemaCompiler.Compile(doc.RootElement.Clone());
        Assert.True(GrammarState.Initial(root).Advance("{\"d\":3}"u8).IsAccepting);
        using var not = JsonDocument.Parse("""{"type":"object","not":{"required":["a"]}}""");
        Assert.Equal("schema.not", Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaCompiler.Compile(not.RootElement.Clone())).Path);
    }

    [Fact]
    public void PatternStringsWithLengthBoundsNeverReachADeadEnd()
    {
        // "a" then room for 1 more: "bbbbbb" can no longer fit, so only 'a' may follow (or the close).
        using var doc = JsonDocument.Parse("""{"type":"string","pattern":"^(a|bbbbbb|aa)$","maxLength":2}""");
        var root = JsonSchemaCompiler.Compile(doc.RootElement.Clone());
        var state = GrammarState.Initial(root);
        Assert.True(state.Advance("\"a"u8).Advance("\""u8).IsAccepting);
        Assert.True(state.Advance("\"b"u8).IsDead);
        Assert.True(state.Advance("\"aa\""u8).IsAccepting);
    }
}

using System.Globalization;
using System.Text.Json;
using Json.Schema;
using QwenAspire.Engine.Sampling.Constraints;

namespace QwenAspire.UnitTests.Constraints;

/// <summary>Bounds on non-integer numbers: the decimal range automaton at its edges, against exact decimal arithmetic, and walks judged by JsonSchema.Net.</summary>
public sealed class NumberRangeTests
{
    private static Dfa Compile(string schema)
    {
        using var doc = JsonDocument.Parse(schema);
        return Assert.IsType<DfaNode>(JsonSchemaCompiler.Compile(doc.RootElement.Clone())).Dfa;
    }

    [Theory]
    [InlineData("""{"type":"number","minimum":1.5}""", "1.5 1.50 1.51 2 10 1.5000000000000001 999", "1.49 1.4999999999 1 0 -0 -1.5 -2 1. .5 1e2 15e-1 +2 01.5")]
    [InlineData("""{"type":"number","exclusiveMinimum":1.5}""", "1.51 1.500001 2", "1.5 1.50 1.5000 1.49 -0.0")]
    [InlineData("""{"type":"number","maximum":1.5}""", "1.5 1.49 0 -0 -0.0 -1000.25 1.4999", "1.51 1.5000001 2 15")]
    [InlineData("""{"type":"number","minimum":-2.25,"exclusiveMaximum":0}""", "-2.25 -2.2 -0.001 -1", "-0 -0.0 0 0.0 -2.26 -2.250001 -3 1")]
    [InlineData("""{"type":"number","minimum":0,"maximum":0}""", "0 -0 0.0 -0.000", "0.1 -0.1 1")]
    [InlineData("""{"type":"number","minimum":-1e2,"maximum":1e2}""", "100 -100 99.99 0.5 -100.0", "1e2 100.01 -100.5 101")]
    [InlineData("""{"type":"number","exclusiveMinimum":0.001,"maximum":0.01}""", "0.0011 0.01 0.005 0.0100", "0.001 0.0010 0.0001 0.011 0")]
    public void BoundaryStrings(string schema, string accepted, string refused)
    {
        var dfa = Compile(schema);
        foreach (var s in accepted.Split(' ')) Assert.True(dfa.Matches(s), $"{schema} should accept {s}");
        foreach (var s in refused.Split(' ')) Assert.False(dfa.Matches(s), $"{schema} should refuse {s}");
    }

    [Theory]
    [InlineData("-3.75", false, "12.125", false)]
    [InlineData("-3.75", true, "12.125", true)]
    [InlineData("0.5", false, null, false)]
    [InlineData(null, false, "-0.05", true)]
    [InlineData("-100", true, "-99.9", false)]
    [InlineData("0", true, "1", true)]
    public void AcceptsExactlyTheDecimalsInRange(string? lo, bool loStrict, string? hi, bool hiStrict)
    {
        decimal? low = lo is null ? null : decimal.Parse(lo, CultureInfo.InvariantCulture), high = hi is null ? null : decimal.Parse(hi, CultureInfo.InvariantCulture);
        var dfa = NumberRanges.Build(low, loStrict, high, hiStrict);
        var rng = new Random(7);
        var samples = new List<string>();
        foreach (var b in new[] { low, high }.OfType<decimal>())
            foreach (var d in new[] { 0m, 0.001m, 0.01m, 0.05m, 0.1m, 1m })
            {
                samples.Add(Text(b - d));
                samples.Add(Text(b + d));
            }
        for (var i = 0; i < 3000; i++) samples.Add(Text(Math.Round((decimal)(rng.NextDouble() * 240 - 120), rng.Next(0, 5))));
        foreach (var s in samples)
        {
            var x = decimal.Parse(s, CultureInfo.InvariantCulture);
            var inRange = (low is null || (loStrict ? x > low : x >= low)) && (high is null || (hiStrict ? x < high : x <= high));
            Assert.True(inRange == dfa.Matches(s), $"{s} in {(loStrict ? "(" : "[")}{lo}, {hi}{(hiStrict ? ")" : "]")}");
            if (s.Contains('.')) Assert.True(inRange == dfa.Matches(s + "00"), $"{s}00 (trailing zeros keep the value)");
        }
        // Never a dead end: from every state some continuation is accepted (pruned automaton).
        for (var state = 0; state < dfa.StateCount; state++) Assert.NotEqual(int.MaxValue, dfa.MinRemaining(state));
    }

    [Theory]
    [InlineData("""{"type":"number","multipleOf":0.25}""", "0 0.25 -0.5 1 1.75 2.50 100.0", "0.1 0.3 1.2 0.125 1e2")]
    [InlineData("""{"type":"number","multipleOf":3,"minimum":-7.5,"maximum":10}""", "-6 0 3 9 9.000", "-9 12 1 4.5 3.1")]
    [InlineData("""{"type":"integer","multipleOf":5,"exclusiveMinimum":0}""", "5 10 995", "0 -5 7 5.0")]
    [InlineData("""{"type":"integer","multipleOf":0.5}""", "0 1 -17", "0.5 1.5")]
    public void MultipleOfStrings(string schema, string accepted, string refused) => BoundaryStrings(schema, accepted, refused);

    [Theory]
    [InlineData("0.05", "-3", "3")]
    [InlineData("7", null, null)]
    [InlineData("1.5", "0", "40")]
    public void AcceptsExactlyTheMultiplesInRange(string step, string? lo, string? hi)
    {
        var m = decimal.Parse(step, CultureInfo.InvariantCulture);
        decimal? low = lo is null ? null : decimal.Parse(lo, CultureInfo.InvariantCulture), high = hi is null ? null : decimal.Parse(hi, CultureInfo.InvariantCulture);
        var dfa = NumberRanges.Build(low, false, high, false, m);
        var rng = new Random(11);
        for (var i = 0; i < 4000; i++)
        {
            var x = Math.Round((decimal)(rng.NextDouble() * 100 - 50), rng.Next(0, 4));
            if (i % 2 == 0) x = Math.Round(x / m) * m; // half the samples are multiples
            var s = Text(x);
            var expected = x % m == 0 && (low is null || x >= low) && (high is null || x <= high);
            Assert.True(expected == dfa.Matches(s), $"{s}: multiple of {step} in [{lo}, {hi}]");
        }
    }

    private static string Text(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void AnEmptyRangeIsRefusedNamingTheKeyword()
    {
        using var doc = JsonDocument.Parse("""{"type":"object","properties":{"x":{"type":"number","minimum":3.5,"exclusiveMaximum":3.5}}}""");
        var ex = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaCompiler.Compile(doc.RootElement.Clone()));
        Assert.Equal("schema.properties.x.minimum", ex.Path);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"p":{"type":"number","minimum":0,"maximum":1},"t":{"type":"number","exclusiveMinimum":-40.5,"exclusiveMaximum":60.25},"n":{"type":["number","null"],"maximum":-0.5},"a":{"type":"array","items":{"type":"number","minimum":1e-3},"maxItems":3}},"required":["p","t","n","a"],"additionalProperties":false}""")]
    [InlineData("""{"type":"array","items":{"anyOf":[{"type":"number","minimum":10,"maximum":10.5},{"type":"string","maxLength":3}]},"minItems":2,"maxItems":5}""")]
    public void WalksValidate(string schemaText)
    {
        var validator = JsonSchema.FromText(schemaText);
        using var doc = JsonDocument.Parse(schemaText);
        var root = JsonSchemaCompiler.Compile(doc.RootElement.Clone());
        foreach (var (vocabulary, seeds) in new[] { (ConstraintVocabularies.Small, 24), (ConstraintVocabularies.Qwen, 3) })
        {
            var constraint = new JsonConstraint(root, vocabulary);
            for (var seed = 0; seed < seeds; seed++)
            {
                var text = ConstrainedWalk.Run(constraint, new Random(seed * 31 + 5), maxTokens: 3000);
                using var output = JsonDocument.Parse(text);
                var result = validator.Evaluate(output.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
                Assert.True(result.IsValid, $"{text} does not validate against {schemaText}");
            }
        }
    }
}

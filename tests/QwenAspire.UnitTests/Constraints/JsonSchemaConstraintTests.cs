using System.Text.Json;
using Json.Schema;
using QwenAspire.Engine.Sampling.Constraints;

namespace QwenAspire.UnitTests.Constraints;

public sealed class JsonSchemaConstraintTests
{
    public static TheoryData<int> Cases() => [.. Enumerable.Range(0, SchemaCases.All.Length)];

    /// <summary>Random walks through the mask, judged by an independent validator (JsonSchema.Net).</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryWalkOnTheSmallVocabularyValidatesAgainstItsSchema(int index)
    {
        var schemaText = SchemaCases.All[index];
        var constraint = new JsonConstraint(Compile(schemaText), ConstraintVocabularies.Small);
        var validator = JsonSchema.FromText(schemaText);
        for (var seed = 0; seed < 12; seed++)
        {
            var text = ConstrainedWalk.Run(constraint, new Random(seed * 31 + index), maxTokens: 3000);
            AssertValid(validator, text, schemaText);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    public void WalksOnTheRealVocabularyValidateToo(int index)
    {
        var schemaText = SchemaCases.All[index];
        var constraint = new JsonConstraint(Compile(schemaText), ConstraintVocabularies.Qwen);
        var validator = JsonSchema.FromText(schemaText);
        for (var seed = 0; seed < 3; seed++)
            AssertValid(validator, ConstrainedWalk.Run(constraint, new Random(seed), maxTokens: 3000), schemaText);
    }

    [Fact]
    public void BoundedStringMasksMatchTestingEveryTokenOnTheRealVocabulary()
    {
        var vocabulary = ConstraintVocabularies.Qwen;
        var constraint = new JsonConstraint(Compile(SchemaCases.All[5]), vocabulary);
        foreach (var text in new[] { "{\"code\":\"", "{\"code\":\"ab", "{\"code\":\"abc", "{\"code\":\"abc\",\"note\":\"1234567" })
        {
            var state = GrammarState.Initial(constraint.Root).Advance(System.Text.Encoding.UTF8.GetBytes(text));
            Assert.False(state.IsDead);
            var mask = constraint.MaskFor(state);
            for (var id = 0; id < vocabulary.Count; id++)
            {
                var bytes = vocabulary.BytesOf(id);
                var allowed = !bytes.IsEmpty && !state.Advance(bytes).IsDead;
                Assert.True(allowed == mask.Allows(id, vocabulary.EosTokenIds) || vocabulary.IsEos(id), $"after '{text}': token {id}");
            }
        }
    }

    [Fact]
    public void RequiredPropertiesCannotBeSkippedAndOptionalOnesCan()
    {
        var root = Compile("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}},"required":["b"]}""");
        Assert.True(Feed(root, "{\"b\":1}").IsAccepting);
        Assert.True(Feed(root, "{\"a\":1,\"b\":2,\"c\":3}").IsAccepting);
        Assert.True(Feed(root, "{\"c\":3").IsDead); // c before the required b
        Assert.True(Feed(root, "{\"a\":1}").IsDead);
        Assert.True(Feed(root, "{\"b\":1,\"b\"").IsDead); // no key twice
        Assert.True(Feed(root, "{\"b\":1,\"d\"").IsDead); // no extra keys
    }

    [Fact]
    public void LengthsItemsAndLiteralsAreEnforcedByteByByte()
    {
        var root = Compile(SchemaCases.All[5]);
        Assert.True(Feed(root, "{\"code\":\"ab\"").IsDead);
        Assert.True(Feed(root, "{\"code\":\"abcd").IsDead);
        Assert.False(Feed(root, "{\"code\":\"a\\né\"").IsDead); // an escape and a 2-byte char count one each
        var array = Compile(SchemaCases.All[6]);
        Assert.True(Feed(array, "[true]").IsDead);
        Assert.True(Feed(array, "[true,false,true,false,").IsDead);
        Assert.True(Feed(array, "[true,false]").IsAccepting);
        var literal = Compile(SchemaCases.All[1]);
        Assert.True(Feed(literal, "{\"color\":{\"a\":[1]},\"kind\":\"fixed\",\"ok\":true}").IsAccepting);
        Assert.True(Feed(literal, "{\"color\":\"blue\"").IsDead);
    }

    [Theory]
    [InlineData("""{"type":"number","minimum":2,"maximum":1.5}""", "schema.minimum")]
    [InlineData("""{"type":"string","pattern":"^(?<x>a)"}""", "schema.pattern")]
    [InlineData("""{"type":"object","properties":{"d":{"type":"string","format":"iri-reference"}}}""", "schema.properties.d.format")]
    [InlineData("""{"allOf":[{"type":"string"},{"maxLength":2}]}""", "schema.allOf")]
    [InlineData("""{"type":"array","uniqueItems":true}""", "schema.uniqueItems")]
    [InlineData("""{"not":{"type":"string"}}""", "schema.not")]
    [InlineData("""{"$ref":"https://example.com/s.json"}""", "schema.$ref")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "schema.$ref")]
    [InlineData("""{"type":"object","patternProperties":{"^x":{}}}""", "schema.patternProperties")]
    [InlineData("""{"type":"object","minProperties":1}""", "schema.minProperties")]
    [InlineData("""{"type":"strin"}""", "schema.type")]
    [InlineData("""{"type":"string","minItems":1}""", "schema.minItems")]
    [InlineData("""{"type":"string","anyOf":[{"maxLength":1}]}""", "schema.type")]
    [InlineData("""{"type":"array","items":{"type":"number","multipleOf":1e-20}}""", "schema.items.multipleOf")]
    [InlineData("""{"type":"object","required":["x"],"additionalProperties":false}""", "schema.required")]
    [InlineData("""{"type":"string","minLength":5,"maxLength":2}""", "schema.minLength")]
    [InlineData("false", "schema")]
    public void UnsupportedOrContradictoryKeywordsAreNamed(string schema, string path)
    {
        var ex = Assert.Throws<UnsupportedSchemaException>(() => Compile(schema));
        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void OlderDefinitionsAndRootReferencesResolve()
    {
        var root = Compile("""{"type":"object","properties":{"s":{"$ref":"#/definitions/S"},"self":{"$ref":"#"}},"definitions":{"S":{"enum":["x"]}},"additionalProperties":false}""");
        Assert.True(Feed(root, "{\"s\":\"x\",\"self\":{\"self\":{}}}").IsAccepting);
        Assert.True(Feed(root, "{\"s\":\"y").IsDead);
    }

    [Fact]
    public void ThirtyPropertySchemasCompile()
    {
        var props = string.Join(",", Enumerable.Range(0, 30).Select(i => $"\"p{i}\":{{\"type\":\"string\",\"maxLength\":4}}"));
        var root = (ObjectNode)Compile($"{{\"type\":\"object\",\"properties\":{{{props}}},\"required\":[\"p0\",\"p29\"]}}");
        Assert.Equal(30, root.Properties.Length);
        Assert.Equal([true, false], root.Properties.Where((_, i) => i is 0 or 1).Select(p => p.Required));
    }

    private static SchemaNode Compile(string schema)
    {
        using var doc = JsonDocument.Parse(schema);
        return JsonSchemaCompiler.Compile(doc.RootElement.Clone());
    }

    private static GrammarState Feed(SchemaNode root, string text) =>
        GrammarState.Initial(root).Advance(System.Text.Encoding.UTF8.GetBytes(text));

    private static void AssertValid(JsonSchema validator, string text, string schema)
    {
        using var doc = JsonDocument.Parse(text);
        var result = validator.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
        Assert.True(result.IsValid, $"{text}\nis not valid against\n{schema}\n{string.Join("; ", errors)}");
    }
}

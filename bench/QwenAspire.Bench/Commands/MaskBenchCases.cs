using System.Text.Json;
using QwenAspire.Engine.Sampling.Constraints;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// bench-mask's grammars, each with a document a model could write for it (what is walked token by token):
/// json_object, a 30-property schema, a forced tool call over three tools, string patterns/formats, number bounds.
/// </summary>
internal static class MaskBenchCases
{
    public sealed record Case(string Name, Func<TokenVocabulary, SchemaNode> Compile, string Document);

    public static IReadOnlyList<Case> All { get; } =
    [
        new("json_object", v => JsonConstraint.JsonObject(v).Root,
            """{"name": "Alice Martin", "age": 34, "email": "alice.martin@example.com", "address": {"street": "12 rue de la Paix", "city": "Paris", "zip": "75002"}, "tags": ["admin", "editor"], "active": true, "score": 9.75, "manager": null}"""),
        new("json_schema 30 properties", _ => SchemaOnly(ThirtyPropertySchema()), ThirtyPropertyDocument()),
        new("tool_choice required, 3 tools", v => ToolCallGrammar.Compile(Tools(), parallel: false, v),
            "<tool_call>\n{\"name\": \"book_flight\", \"arguments\": {\"from\": \"CDG\", \"to\": \"JFK\", \"date\": \"2026-12-24\", \"passengers\": 2, \"cabin\": \"economy\"}}\n</tool_call>"),
        new("string pattern/format", _ => SchemaOnly(PatternSchema),
            """{"sku":"ABC-1234","code":"XK-07","day":"2026-12-03","at":"2026-12-03T12:45:00Z","id":"3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f708192","mail":"jane.doe@example.org","host":"api.example.com"}"""),
        new("number bounds", _ => SchemaOnly(NumberSchema), """{"p":0.8125,"temp":21.5,"price":1299.99,"xs":[0.25,0.5,0.75]}"""),
    ];

    private const string PatternSchema =
        """{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-\\d{2,4}$"},"code":{"type":"string","pattern":"^[A-Z]{2}-[0-9]{2}$"},"day":{"type":"string","format":"date"},"at":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"},"mail":{"type":"string","format":"email"},"host":{"type":"string","format":"hostname"}},"required":["sku","code","day","at","id","mail","host"],"additionalProperties":false}""";

    private const string NumberSchema =
        """{"type":"object","properties":{"p":{"type":"number","minimum":0,"maximum":1},"temp":{"type":"number","exclusiveMinimum":-40.5,"exclusiveMaximum":60.25},"price":{"type":"number","minimum":0.01},"xs":{"type":"array","items":{"type":"number","minimum":0,"exclusiveMaximum":1},"maxItems":4}},"required":["p","temp","price","xs"],"additionalProperties":false}""";

    public static SchemaNode SchemaOnly(string schema)
    {
        using var doc = JsonDocument.Parse(schema);
        return JsonSchemaCompiler.Compile(doc.RootElement.Clone());
    }

    private static List<ToolFunction> Tools()
    {
        static ToolFunction Tool(string name, string schema) => new(name, JsonDocument.Parse(schema).RootElement.Clone(), $"tools.{name}.parameters");
        return
        [
            Tool("get_weather", """{"type":"object","properties":{"city":{"type":"string","maxLength":40},"days":{"type":"integer","minimum":1,"maximum":7},"unit":{"enum":["c","f"]}},"required":["city","days"],"additionalProperties":false}"""),
            Tool("book_flight", """{"type":"object","properties":{"from":{"type":"string","pattern":"^[A-Z]{3}$"},"to":{"type":"string","pattern":"^[A-Z]{3}$"},"date":{"type":"string","format":"date"},"passengers":{"type":"integer","minimum":1,"maximum":9},"cabin":{"enum":["economy","business","first"]}},"required":["from","to","date","passengers"],"additionalProperties":false}"""),
            Tool("search_docs", """{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer","minimum":1,"maximum":50},"filters":{"type":"array","items":{"type":"string","maxLength":20},"maxItems":5}},"required":["query"],"additionalProperties":false}"""),
        ];
    }

    /// <summary>30 properties in five kinds: bounded string, integer, enum, bounded array of numbers, boolean-or-null.</summary>
    public static string ThirtyPropertySchema()
    {
        var props = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            props.Add((i % 5) switch
            {
                0 => $"\"field_{i}\": {{\"type\": \"string\", \"maxLength\": 24}}",
                1 => $"\"field_{i}\": {{\"type\": \"integer\"}}",
                2 => $"\"field_{i}\": {{\"enum\": [\"red\", \"green\", \"blue\"]}}",
                3 => $"\"field_{i}\": {{\"type\": \"array\", \"items\": {{\"type\": \"number\"}}, \"maxItems\": 3}}",
                _ => $"\"field_{i}\": {{\"type\": [\"boolean\", \"null\"]}}",
            });
        }
        var required = string.Join(", ", Enumerable.Range(0, 30).Where(i => i % 3 != 2).Select(i => $"\"field_{i}\""));
        return $"{{\"type\": \"object\", \"properties\": {{{string.Join(", ", props)}}}, \"required\": [{required}], \"additionalProperties\": false}}";
    }

    /// <summary>Every property written (in order, as the grammar writes them), pretty-printed with a space after ':' and ','.</summary>
    private static string ThirtyPropertyDocument()
    {
        string[] words = ["Quarterly report", "north-east", "Jane O'Neil", "pending review", "v2.3.1", "ok"];
        var parts = Enumerable.Range(0, 30).Select(i => $"\"field_{i}\": " + (i % 5) switch
        {
            0 => JsonSerializer.Serialize(words[i / 5 % words.Length]),
            1 => (i * 137 % 10007).ToString(System.Globalization.CultureInfo.InvariantCulture),
            2 => new[] { "\"red\"", "\"green\"", "\"blue\"" }[i % 3],
            3 => $"[{i}.5, -0.25, 3]",
            _ => i % 2 == 0 ? "true" : "null",
        });
        return "{" + string.Join(", ", parts) + "}";
    }
}

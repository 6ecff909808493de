using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.Text.Templating;

namespace QwenAspire.UnitTests.Templating;

/// <summary>Variables may arrive as System.Text.Json nodes/elements or plain .NET values, with Python's int/float split kept.</summary>
public sealed class ValueInputTests
{
    private static readonly JinjaTemplate Show = JinjaTemplate.Parse("{{ v }}|{{ v | tojson }}");

    private static string Render(object? v) => Show.Render(new Dictionary<string, object?> { ["v"] = v });

    [Fact]
    public void JsonNumbersKeepIntegerVersusFloat()
    {
        Assert.Equal("1|1", Render(JsonNode.Parse("1")));
        Assert.Equal("1.0|1.0", Render(JsonNode.Parse("1.0")));
        Assert.Equal("100000.0|100000.0", Render(JsonNode.Parse("1e5")));
        Assert.Equal("[1, 2.5]|[1, 2.5]", Render(JsonDocument.Parse("[1, 2.5]").RootElement));
    }

    [Fact]
    public void PlainDotNetValuesMapToPythonValues()
    {
        Assert.Equal("3|3", Render(3));
        Assert.Equal("3.0|3.0", Render(3.0));
        Assert.Equal("0.5|0.5", Render(0.5f));
        Assert.Equal("True|true", Render(true));
        Assert.Equal("None|null", Render(null));
        Assert.Equal("{'a': [1, 'x']}|{\"a\": [1, \"x\"]}", Render(new Dictionary<string, object?> { ["a"] = new object?[] { 1L, "x" } }));
    }

    [Fact]
    public void JsonNodesBuiltInCodeWork()
    {
        var node = new JsonObject { ["name"] = "é", ["n"] = 2, ["f"] = 2.0, ["list"] = new JsonArray(true, null) };
        Assert.Equal("{\"name\": \"é\", \"n\": 2, \"f\": 2.0, \"list\": [true, null]}", Render(node).Split('|')[1]);
    }

    [Fact]
    public void OneCompiledTemplateRendersConcurrently()
    {
        var template = JinjaTemplate.Parse("{% for i in range(n) %}{{ i }}{% endfor %}");
        Parallel.For(0, 64, i =>
        {
            string expected = string.Concat(Enumerable.Range(0, i % 10));
            Assert.Equal(expected, template.Render(new Dictionary<string, object?> { ["n"] = i % 10 }));
        });
    }
}

public sealed class GlobalFunctionTests
{
    [Fact]
    public void StrftimeNowFormatsTheLocalDateLikePython()
    {
        var template = JinjaTemplate.Parse("{{ strftime_now('%Y-%m-%d|%d %b %Y|%-d %B|%%') }}");
        var before = DateTime.Now;
        string text = template.Render(new Dictionary<string, object?>());
        var after = DateTime.Now;
        string Expected(DateTime t) => t.ToString("yyyy-MM-dd|dd MMM yyyy|", System.Globalization.CultureInfo.InvariantCulture)
            + t.Day + " " + t.ToString("MMMM", System.Globalization.CultureInfo.InvariantCulture) + "|%";
        Assert.Contains(text, new[] { Expected(before), Expected(after) });
    }

    [Fact]
    public void NamespaceAcceptsADictAndKeywords()
    {
        var template = JinjaTemplate.Parse("{% set ns = namespace({'a': 1}, b=2) %}{% set ns.a = ns.a + ns.b %}{{ ns.a }}");
        Assert.Equal("3", template.Render(new Dictionary<string, object?>()));
    }
}

using QwenAspire.Text.Templating;

namespace QwenAspire.UnitTests.Templating;

public sealed class TemplateErrorTests
{
    private static string Render(string source, params (string Key, object? Value)[] vars) =>
        JinjaTemplate.Parse(source, "t.jinja").Render(vars.ToDictionary(v => v.Key, v => v.Value));

    [Fact]
    public void SyntaxErrorNamesLineAndColumnOfTheBadToken()
    {
        var e = Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse("line one\n{% if x %}\n  {{ a b }}\n{% endif %}", "t.jinja"));
        Assert.Equal(3, e.Line);
        Assert.Equal(8, e.Column);
        Assert.Contains("t.jinja", e.Message);
        Assert.Contains("line 3, column 8", e.Message);
    }

    [Fact]
    public void UnknownFilterFailsAtParseTimeNotAtRender()
    {
        var e = Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse("{% if false %}{{ x | nope }}{% endif %}"));
        Assert.Equal("No filter named 'nope'.", e.Reason);
        Assert.Equal(1, e.Line);
        Assert.Equal(22, e.Column);
    }

    [Fact]
    public void RuntimeErrorNamesTheOperatorPosition()
    {
        var e = Assert.Throws<TemplateRuntimeException>(() => Render("{% for m in messages %}\n{{- 'x' + m.content }}\n{% endfor %}",
            ("messages", new List<object?> { new Dictionary<string, object?> { ["content"] = null } })));
        Assert.Equal("can only concatenate str (not \"NoneType\") to str", e.Reason);
        Assert.Equal(2, e.Line);
        Assert.Equal(9, e.Column);
    }

    [Fact]
    public void RaiseExceptionCarriesTheTemplatesMessage()
    {
        var e = Assert.Throws<TemplateRaiseException>(() => Render(
            "{%- for m in messages %}\n  {%- if m.role not in ['user', 'assistant'] %}\n    {{- raise_exception('Unsupported role: ' + m.role) }}\n  {%- endif %}\n{%- endfor %}",
            ("messages", new List<object?> { new Dictionary<string, object?> { ["role"] = "narrator" } })));
        Assert.Equal("Unsupported role: narrator", e.Reason);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void UsingAnUndefinedValueFailsButPrintingItGivesNothing()
    {
        Assert.Equal("[]", Render("[{{ missing }}{{ d.missing }}]", ("d", new Dictionary<string, object?>())));
        var e = Assert.Throws<TemplateRuntimeException>(() => Render("{{ d.missing.deeper }}", ("d", new Dictionary<string, object?>())));
        Assert.Equal("'dict object' has no attribute 'missing'", e.Reason);
    }

    [Fact]
    public void UnclosedBlockReportsWhatWasExpected()
    {
        var e = Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse("{% for x in y %}\n{{ x }}"));
        Assert.Contains("'endfor'", e.Reason);
    }

    [Fact]
    public void UnsupportedValueTypeIsRejectedWithItsName()
    {
        var e = Assert.Throws<ArgumentException>(() => Render("{{ x }}", ("x", new object())));
        Assert.Contains("System.Object", e.Message);
    }
}

public sealed class HostileTemplateTests
{
    [Fact]
    public void DeeplyNestedExpressionIsASyntaxErrorNotAStackOverflow()
    {
        string source = "{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}";
        Assert.Contains("nested", Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(source)).Reason);
        Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse("{{ " + string.Concat(Enumerable.Repeat("not ", 5000)) + "x }}"));
    }

    [Fact]
    public void RecursiveMacroFailsCleanly()
    {
        var t = JinjaTemplate.Parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.Contains("recursion", Assert.Throws<TemplateRuntimeException>(() => t.Render(new Dictionary<string, object?>())).Reason);
    }

    [Fact]
    public void HugeRepetitionIsRefused()
    {
        var t = JinjaTemplate.Parse("{{ 'x' * 1000000000 }}");
        Assert.Contains("too large", Assert.Throws<TemplateRuntimeException>(() => t.Render(new Dictionary<string, object?>())).Reason);
    }
}

using System.Text.Json.Nodes;
using QwenAspire.Text.Templating;

namespace QwenAspire.UnitTests.Templating;

/// <summary>
/// Differential cases: each template was rendered by Python Jinja2 3.1.6 set up like transformers
/// (see Oracle/make_cases.py); our interpreter must give the same text or fail the same way.
/// </summary>
public sealed class InterpreterCasesTests
{
    private static readonly string[] CasesFile = ["jinja", "interpreter_cases.jsonl"];

    public static TheoryData<string> CaseNames => TestFiles.Names(CasesFile);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void RendersLikePythonJinja(string name)
    {
        var c = TestFiles.Case(name, CasesFile);
        string source = (string)c["template"]!;
        var vars = new Dictionary<string, object?>();
        foreach (var kv in c["vars"]!.AsObject()) vars[kv.Key] = kv.Value?.DeepClone();
        string? error = (string?)c["error"];
        if (error == null)
        {
            Assert.Equal((string)c["expected"]!, JinjaTemplate.Parse(source, name).Render(vars));
            return;
        }
        string pythonMessage = (string)c["message"]!;
        switch (error)
        {
            case "syntax":
                var se = Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(source, name));
                Assert.Equal((int)c["line"]!, se.Line);
                break;
            case "raise":
                var re = Assert.Throws<TemplateRaiseException>(() => JinjaTemplate.Parse(source, name).Render(vars));
                Assert.Equal(pythonMessage, re.Reason);
                break;
            default:
                var template = JinjaTemplate.Parse(source, name);
                var rt = Assert.Throws<TemplateRuntimeException>(() => template.Render(vars));
                Assert.Equal(pythonMessage[(pythonMessage.IndexOf(": ", StringComparison.Ordinal) + 2)..], rt.Reason);
                break;
        }
    }
}

using System.Text;

namespace QwenAspire.Text.Templating;

/// <summary>
/// A compiled Jinja2 template, rendered with Hugging Face transformers' chat-template settings
/// (trim_blocks, lstrip_blocks, Python value semantics, json.dumps-compatible <c>tojson</c>).
/// Parse once, render many times; rendering is thread-safe.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Stmt> _body;
    private readonly SourceMap _map;

    private JinjaTemplate(List<Stmt> body, SourceMap map)
    {
        _body = body;
        _map = map;
    }

    /// <summary>The name used in error messages (a file name, or null for "&lt;string&gt;").</summary>
    public string? Name => _map.Name;

    /// <summary>Compiles <paramref name="source"/>; throws <see cref="TemplateSyntaxException"/> with line/column.</summary>
    public static JinjaTemplate Parse(string source, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        string normalized = Lexer.Normalize(source);
        var map = new SourceMap(normalized, name);
        var tokens = Lexer.Tokenize(normalized, map);
        return new JinjaTemplate(Parser.Parse(tokens, map), map);
    }

    /// <summary>
    /// Renders with the given variables: JsonNode/JsonElement or plain .NET values (string, bool, integers,
    /// floating point, null, lists, string-keyed dictionaries). Throws <see cref="TemplateRuntimeException"/>
    /// or, for <c>raise_exception(msg)</c>, <see cref="TemplateRaiseException"/>.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var vars = new Dictionary<string, object?>(variables.Count, StringComparer.Ordinal);
        foreach (var kv in variables) vars[kv.Key] = ValueConverter.From(kv.Value);
        var ctx = new RenderContext(_map, new Frame(new Frame(null, vars)));
        var sb = new StringBuilder(1024);
        Stmt.RenderAll(_body, ctx, sb);
        return sb.ToString();
    }
}

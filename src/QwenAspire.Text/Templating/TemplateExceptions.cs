namespace QwenAspire.Text.Templating;

/// <summary>Base of every template error; carries the 1-based template line and column.</summary>
public abstract class TemplateException : Exception
{
    protected TemplateException(string message, string? templateName, int line, int column, Exception? inner = null)
        : base(Format(message, templateName, line, column), inner)
    {
        Reason = message;
        TemplateName = templateName;
        Line = line;
        Column = column;
    }

    /// <summary>The message without the position suffix.</summary>
    public string Reason { get; }
    public string? TemplateName { get; }
    public int Line { get; }
    public int Column { get; }

    private static string Format(string message, string? name, int line, int column) =>
        line <= 0 ? message : $"{message} (template {name ?? "<string>"}, line {line}, column {column})";
}

/// <summary>The template text does not parse.</summary>
public sealed class TemplateSyntaxException(string message, string? templateName, int line, int column)
    : TemplateException(message, templateName, line, column);

/// <summary>Rendering failed: a type error, an undefined value used, a bad filter argument…</summary>
public sealed class TemplateRuntimeException(string message, string? templateName, int line, int column, Exception? inner = null)
    : TemplateException(message, templateName, line, column, inner);

/// <summary>
/// The template itself rejected its input through <c>raise_exception(msg)</c>; <see cref="TemplateException.Reason"/>
/// is the template's message (the server answers it as a 400).
/// </summary>
public sealed class TemplateRaiseException(string message, string? templateName, int line, int column)
    : TemplateException(message, templateName, line, column);

/// <summary>Thrown by value operations that know no position; the evaluator adds line/column.</summary>
internal sealed class PyError(string message) : Exception(message);

/// <summary>Thrown by <c>raise_exception</c>; the evaluator adds line/column.</summary>
internal sealed class RaiseSignal(string message) : Exception(message);

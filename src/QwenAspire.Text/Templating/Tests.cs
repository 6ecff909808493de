namespace QwenAspire.Text.Templating;

/// <summary>Jinja2's built-in tests (<c>x is string</c>, <c>x is not none</c>, <c>n is divisibleby 3</c>).</summary>
internal static class Tests
{
    public delegate bool Fn(object? value, List<object?> args);

    private static object? Arg(List<object?> args, string test) =>
        args.Count > 0 ? args[0] : throw new PyError($"test '{test}' needs an argument");

    private static readonly Dictionary<string, Fn> Table = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["string"] = (v, _) => v is string,
        ["number"] = (v, _) => v is long or double or bool,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["mapping"] = (v, _) => v is PyDict,
        ["iterable"] = (v, _) => v is string or List<object?> or PyTuple or PyDict or Undefined,
        ["sequence"] = (v, _) => v is string or List<object?> or PyTuple or PyDict or Undefined,
        ["callable"] = (v, _) => v is ICallable,
        ["odd"] = (v, _) => v is long l ? (l & 1) == 1 : throw new PyError($"test 'odd' needs an int, not {Py.TypeName(v)}"),
        ["even"] = (v, _) => v is long l ? (l & 1) == 0 : throw new PyError($"test 'even' needs an int, not {Py.TypeName(v)}"),
        ["divisibleby"] = (v, a) => Py.Equal(Ops.Binary("%", v, Arg(a, "divisibleby")), 0L),
        ["eq"] = (v, a) => Py.Equal(v, Arg(a, "eq")),
        ["equalto"] = (v, a) => Py.Equal(v, Arg(a, "equalto")),
        ["=="] = (v, a) => Py.Equal(v, Arg(a, "==")),
        ["ne"] = (v, a) => !Py.Equal(v, Arg(a, "ne")),
        ["!="] = (v, a) => !Py.Equal(v, Arg(a, "!=")),
        ["lt"] = (v, a) => Py.Compare(v, Arg(a, "lt"), "<") < 0,
        ["lessthan"] = (v, a) => Py.Compare(v, Arg(a, "lessthan"), "<") < 0,
        ["<"] = (v, a) => Py.Compare(v, Arg(a, "<"), "<") < 0,
        ["le"] = (v, a) => Py.Compare(v, Arg(a, "le"), "<=") <= 0,
        ["<="] = (v, a) => Py.Compare(v, Arg(a, "<="), "<=") <= 0,
        ["gt"] = (v, a) => Py.Compare(v, Arg(a, "gt"), ">") > 0,
        ["greaterthan"] = (v, a) => Py.Compare(v, Arg(a, "greaterthan"), ">") > 0,
        [">"] = (v, a) => Py.Compare(v, Arg(a, ">"), ">") > 0,
        ["ge"] = (v, a) => Py.Compare(v, Arg(a, "ge"), ">=") >= 0,
        [">="] = (v, a) => Py.Compare(v, Arg(a, ">="), ">=") >= 0,
        ["in"] = (v, a) => Py.Contains(Arg(a, "in"), v),
        ["sameas"] = (v, a) => Arg(a, "sameas") is var o && (v is null ? o is null : v is bool b ? o is bool ob && b == ob : ReferenceEquals(v, o)),
        ["lower"] = (v, _) => v is string s && s == s.ToLowerInvariant(),
        ["upper"] = (v, _) => v is string s && s == s.ToUpperInvariant(),
        ["escaped"] = (_, _) => false,
    };

    public static Fn? Get(string name) => Table.GetValueOrDefault(name);
}

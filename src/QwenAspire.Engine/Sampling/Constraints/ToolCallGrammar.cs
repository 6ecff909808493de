using System.Text.Json;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>One function a forced tool call may name; <see cref="Path"/> is where its schema sits in the request (for errors).</summary>
public sealed record ToolFunction(string Name, JsonElement? Parameters, string Path);

/// <summary>
/// The grammar of a forced Qwen3 tool call, exactly as its chat template writes one:
/// <c>&lt;tool_call&gt;\n{"name": "NAME", "arguments": ARGS}\n&lt;/tool_call&gt;</c>, where NAME is one of the
/// allowed functions and ARGS validates against that function's <c>parameters</c>. &lt;tool_call&gt; and
/// &lt;/tool_call&gt; are the tokenizer's added tokens (not their spelling in ordinary tokens). Parallel calls are
/// up to <see cref="MaxParallelCalls"/> blocks separated by "\n" (the template's separator), then eos.
/// </summary>
public static class ToolCallGrammar
{
    /// <summary>Bounds a random or looping model: after this many calls only eos is left.</summary>
    public const int MaxParallelCalls = 8;

    /// <exception cref="UnsupportedSchemaException">A parameters schema the grammar cannot enforce (path names the keyword).</exception>
    public static SchemaNode Compile(IReadOnlyList<ToolFunction> functions, bool parallel, TokenVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(functions);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (functions.Count == 0) throw new ArgumentException("A forced tool call needs at least one function.", nameof(functions));
        var open = new LiteralNode(vocabulary.GrammarBytesOf("<tool_call>"));
        var close = new LiteralNode(vocabulary.GrammarBytesOf("</tool_call>"));
        var calls = functions.Select(f => (SchemaNode)new SequenceNode(
        [
            open,
            LiteralNode.Of("\n{\"name\": " + JsonSerializer.Serialize(f.Name, JsonLiterals.Options) + ", \"arguments\": "),
            Arguments(f),
            LiteralNode.Of("}\n"),
            close,
        ])).ToList();
        var call = calls.Count == 1 ? calls[0] : new UnionNode(calls);
        return parallel ? new RepeatNode(call, LiteralNode.Of("\n"), 1, MaxParallelCalls) : call;
    }

    /// <summary>No parameters: the function takes none, so the arguments are <c>{}</c>.</summary>
    private static SchemaNode Arguments(ToolFunction f) =>
        f.Parameters is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } p
            ? JsonSchemaCompiler.Compile(p, f.Path)
            : new ObjectNode([], freeValues: null);
}

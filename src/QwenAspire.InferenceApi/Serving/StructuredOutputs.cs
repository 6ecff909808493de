using System.Collections.Concurrent;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.Engine.Sampling.LogitsProcessors;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Turns a request's <see cref="ResponseFormat"/> into the engine constraint every choice of it shares. The
/// vocabulary (token trie, string-token table) is built on the first constrained request; compiled grammars
/// are kept by schema text (up to <see cref="MaxCachedGrammars"/>), so a client that sends the same schema
/// each time (Dify, agents) reuses the grammar and its per-state mask cache.
/// </summary>
public sealed class StructuredOutputs(Func<TokenVocabulary> vocabulary)
{
    /// <summary>With <see cref="JsonConstraint.MaxCacheBytes"/> per grammar, masks use at most 256 MiB in all.</summary>
    public const int MaxCachedGrammars = 32;
    // The string-token table is built with it, here on a request thread, so the engine thread never stalls on it.
    private readonly Lazy<TokenVocabulary> _vocabulary = new(() => vocabulary().Prepare());
    private readonly ConcurrentDictionary<string, JsonConstraint> _grammars = new(StringComparer.Ordinal);

    /// <summary>Null constraint for text; a 400 naming the schema keyword when it cannot be compiled.</summary>
    public ApiError? Resolve(ResponseFormat format, out ILogitsProcessorFactory? constraint)
    {
        ArgumentNullException.ThrowIfNull(format);
        constraint = null;
        if (!format.IsConstrained) return null;
        var key = format.Kind == ResponseFormatKind.JsonObject ? "json_object" : "schema:" + format.Schema!.Value.GetRawText();
        if (_grammars.TryGetValue(key, out var cached))
        {
            constraint = cached;
            return null;
        }
        SchemaNode root;
        try
        {
            root = format.Kind == ResponseFormatKind.JsonObject
                ? JsonConstraint.JsonObject(_vocabulary.Value).Root
                : JsonSchemaCompiler.Compile(format.Schema!.Value, "schema");
        }
        catch (UnsupportedSchemaException ex)
        {
            return ApiError.BadRequest($"response_format.json_schema.{ex.Message}", $"response_format.json_schema.{ex.Path}", "unsupported_schema");
        }
        constraint = Cache(key, new JsonConstraint(root, _vocabulary.Value));
        return null;
    }

    /// <summary>
    /// The grammar of a forced tool call over <paramref name="functions"/>; a 400 naming the parameters keyword
    /// (<c>tools[i].function.parameters.…</c>) when one cannot be enforced.
    /// </summary>
    public ApiError? ResolveToolCalls(IReadOnlyList<ToolFunction> functions, bool parallel, out ILogitsProcessorFactory? constraint)
    {
        ArgumentNullException.ThrowIfNull(functions);
        constraint = null;
        var key = "tools:" + parallel + ":" + string.Join("\u0001", functions.Select(f => f.Path + "\u0002" + f.Name + "\u0002" + f.Parameters?.GetRawText()));
        if (_grammars.TryGetValue(key, out var cached))
        {
            constraint = cached;
            return null;
        }
        try
        {
            constraint = Cache(key, new JsonConstraint(ToolCallGrammar.Compile(functions, parallel, _vocabulary.Value), _vocabulary.Value));
            return null;
        }
        catch (UnsupportedSchemaException ex)
        {
            return ApiError.BadRequest(ex.Message, ex.Path, "unsupported_schema");
        }
    }

    private JsonConstraint Cache(string key, JsonConstraint compiled)
    {
        if (_grammars.Count >= MaxCachedGrammars) _grammars.Clear(); // crude but bounded; recompiling is cheap (sub-ms)
        return _grammars.GetOrAdd(key, compiled);
    }
}

using System.Text;
using System.Text.Json;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// Compiles a JSON Schema (the subset OpenAI structured outputs use, draft 2020-12 spelling) to a
/// <see cref="SchemaNode"/> graph. Every keyword either shapes the grammar or is an annotation (title,
/// description…); anything else is refused with a <see cref="UnsupportedSchemaException"/> naming it, so no
/// constraint is ever silently dropped. Objects are written in property order; extra keys are never written
/// (valid whatever additionalProperties says). oneOf is generated as anyOf: its options must not overlap.
/// </summary>
public sealed class JsonSchemaCompiler
{
    private static readonly HashSet<string> s_annotations =
        ["title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions",
         "$anchor", "$dynamicAnchor", "$vocabulary", "contentEncoding", "contentMediaType", "contentSchema"];
    /// <summary>
    /// JSON Schema's keywords (2020-12 and draft 7). A name outside them constrains nothing (validators ignore
    /// unknown keywords), so it is read as an annotation, e.g. the "condition" Semantic Kernel writes for a
    /// function's description; a listed one is compiled or refused.
    /// </summary>
    private static readonly HashSet<string> s_vocabulary =
        ["$ref", "$dynamicRef", "$recursiveRef", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
         "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties",
         "required", "dependentRequired", "dependencies", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems",
         "items", "additionalItems", "contains", "properties", "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems",
         "unevaluatedProperties", "format"];
    private static readonly Dictionary<string, string> s_typeOf = new()
    {
        ["properties"] = "object", ["required"] = "object", ["additionalProperties"] = "object",
        ["items"] = "array", ["minItems"] = "array", ["maxItems"] = "array", ["uniqueItems"] = "array",
        ["minLength"] = "string", ["maxLength"] = "string", ["pattern"] = "string", ["format"] = "string",
        ["minimum"] = "number", ["maximum"] = "number", ["multipleOf"] = "number", ["exclusiveMinimum"] = "number", ["exclusiveMaximum"] = "number",
    };
    private static readonly string[] s_bounds = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
    private static readonly string[] s_types = ["object", "array", "string", "integer", "number", "boolean", "null"];

    private readonly JsonElement _root;
    private readonly Dictionary<string, RefNode> _refs = new(StringComparer.Ordinal);
    private readonly List<(RefNode Node, string Pointer)> _pending = [];

    private JsonSchemaCompiler(JsonElement root) => _root = root;

    /// <exception cref="UnsupportedSchemaException">An unsupported keyword or an unsatisfiable/ill-formed schema.</exception>
    public static SchemaNode Compile(JsonElement schema, string path = "schema")
    {
        var compiler = new JsonSchemaCompiler(schema);
        var node = compiler.Node(schema, path);
        // $ref targets are compiled once each, after their first use, so recursion terminates.
        for (var i = 0; i < compiler._pending.Count; i++)
        {
            var (refNode, pointer) = compiler._pending[i];
            refNode.Target = compiler.Node(compiler.Resolve(pointer, path), $"{path}.$ref({pointer})");
        }
        return node;
    }

    private SchemaNode Node(JsonElement s, string path)
    {
        if (s.ValueKind == JsonValueKind.True) return SchemaNode.Any;
        if (s.ValueKind == JsonValueKind.False) throw new UnsupportedSchemaException(path, "the schema 'false' matches no value.");
        if (s.ValueKind != JsonValueKind.Object) throw new UnsupportedSchemaException(path, "a schema must be an object or a boolean.");

        var keywords = s.EnumerateObject().Select(p => p.Name).Where(k => !s_annotations.Contains(k) && s_vocabulary.Contains(k)).ToList();
        if (s.TryGetProperty("$ref", out var reference)) return Ref(reference, keywords, path);
        if (s.TryGetProperty("const", out var constant)) return Only(keywords, "const", path, Literal(constant));
        if (s.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                throw new UnsupportedSchemaException($"{path}.enum", "must be a non-empty array.");
            return Only(keywords, "enum", path, Union([.. values.EnumerateArray().Select(Literal)]));
        }
        foreach (var combinator in new[] { "anyOf", "oneOf", "allOf" })
        {
            if (!s.TryGetProperty(combinator, out var options)) continue;
            if (options.ValueKind != JsonValueKind.Array || options.GetArrayLength() == 0)
                throw new UnsupportedSchemaException($"{path}.{combinator}", "must be a non-empty array of schemas.");
            if (combinator == "allOf" && options.GetArrayLength() > 1)
                throw new UnsupportedSchemaException($"{path}.allOf", "'allOf' with more than one schema is not supported (the output would have to satisfy all of them).");
            var compiled = options.EnumerateArray().Select((o, i) => Node(o, $"{path}.{combinator}[{i}]")).ToList();
            return Only(keywords, combinator, path, Union(compiled));
        }
        return Typed(s, keywords, path);
    }

    private SchemaNode Ref(JsonElement reference, List<string> keywords, string path)
    {
        var pointer = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : throw new UnsupportedSchemaException($"{path}.$ref", "must be a string.");
        if (!pointer.StartsWith('#')) throw new UnsupportedSchemaException($"{path}.$ref", $"only references inside the schema ('#/$defs/…') are supported, got '{pointer}'.");
        if (!_refs.TryGetValue(pointer, out var node))
        {
            Resolve(pointer, path); // fail now, with this path, if it points nowhere
            _refs[pointer] = node = new RefNode();
            _pending.Add((node, pointer));
        }
        return Only(keywords, "$ref", path, node);
    }

    private JsonElement Resolve(string pointer, string path)
    {
        var at = _root;
        foreach (var raw in pointer[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var part = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (at.ValueKind == JsonValueKind.Object && at.TryGetProperty(part, out var child)) at = child;
            else if (at.ValueKind == JsonValueKind.Array && int.TryParse(part, out var i) && i >= 0 && i < at.GetArrayLength()) at = at[i];
            else throw new UnsupportedSchemaException($"{path}.$ref", $"'{pointer}' does not resolve inside the schema.");
        }
        return at;
    }

    /// <summary>A keyword that defines the value by itself: other constraints beside it would need an intersection.</summary>
    private static SchemaNode Only(List<string> keywords, string keyword, string path, SchemaNode node)
    {
        var others = keywords.Where(k => k != keyword && !(keyword is "const" or "enum" && k == "type")).ToList();
        if (others.Count > 0)
            throw new UnsupportedSchemaException($"{path}.{others[0]}", $"'{others[0]}' next to '{keyword}' is not supported (the output must satisfy both).");
        return node;
    }

    private static SchemaNode Literal(JsonElement value) =>
        new LiteralNode(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, JsonLiterals.Options)));

    private static SchemaNode Union(List<SchemaNode> options) => options.Count == 1 ? options[0] : new UnionNode(options);

    private SchemaNode Typed(JsonElement s, List<string> keywords, string path)
    {
        List<string> types;
        if (s.TryGetProperty("type", out var type))
        {
            types = type.ValueKind switch
            {
                JsonValueKind.String => [type.GetString()!],
                JsonValueKind.Array when type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String) && type.GetArrayLength() > 0 =>
                    [.. type.EnumerateArray().Select(t => t.GetString()!)],
                _ => throw new UnsupportedSchemaException($"{path}.type", "must be a type name or a non-empty array of them."),
            };
            foreach (var t in types)
                if (!s_types.Contains(t)) throw new UnsupportedSchemaException($"{path}.type", $"unknown type '{t}'.");
        }
        else
        {
            // No type: the type-specific keywords present say which it is; none at all means any value.
            types = [.. keywords.Where(s_typeOf.ContainsKey).Select(k => s_typeOf[k]).Distinct()];
            if (types.Count == 0)
            {
                if (keywords.Count > 0) throw Unsupported(path, keywords[0]);
                return SchemaNode.Any;
            }
        }
        foreach (var k in keywords)
        {
            if (k == "type") continue;
            if (!s_typeOf.TryGetValue(k, out var owner)) throw Unsupported(path, k);
            if (!types.Contains(owner) && !(owner == "number" && types.Contains("integer")))
                throw new UnsupportedSchemaException($"{path}.{k}", $"'{k}' applies to {owner} values, but the type is {string.Join("|", types)}.");
        }
        return Union([.. types.Select(t => OfType(s, t, path))]);
    }

    private static UnsupportedSchemaException Unsupported(string path, string keyword) =>
        new($"{path}.{keyword}", $"the keyword '{keyword}' is not supported in structured output.");

    private SchemaNode OfType(JsonElement s, string type, string path) => type switch
    {
        "object" => Object(s, path),
        "array" => Array(s, path),
        "string" => String(s, path),
        "integer" => Integer(s, path),
        "number" => Number(s, path),
        "boolean" => new UnionNode([AnyNode.True, AnyNode.False]),
        _ => AnyNode.Null,
    };

    private static StringNode String(JsonElement s, string path)
    {
        var min = Count(s, "minLength", 0, path);
        var max = Count(s, "maxLength", int.MaxValue, path);
        if (min > max) throw new UnsupportedSchemaException($"{path}.minLength", "is larger than maxLength.");
        string? pattern = null, keyword = null;
        if (s.TryGetProperty("pattern", out var p))
        {
            if (p.ValueKind != JsonValueKind.String) throw new UnsupportedSchemaException($"{path}.pattern", "must be a string.");
            (pattern, keyword) = (p.GetString()!, "pattern");
        }
        if (s.TryGetProperty("format", out var f))
        {
            if (keyword is not null) throw new UnsupportedSchemaException($"{path}.format", "'format' next to 'pattern' is not supported (the output would have to satisfy both).");
            var name = f.ValueKind == JsonValueKind.String ? f.GetString()! : throw new UnsupportedSchemaException($"{path}.format", "must be a string.");
            if (!StringFormats.TryGetPattern(name, out var formatPattern))
                throw new UnsupportedSchemaException($"{path}.format", $"the 'format' '{name}' is not supported in structured output (supported: {string.Join(", ", StringFormats.Supported)}).");
            (pattern, keyword) = (formatPattern, "format");
        }
        if (pattern is null) return new StringNode(min, max);
        Dfa dfa;
        try { dfa = RegexCompiler.Compile(pattern); }
        catch (RegexNotSupportedException ex) { throw new UnsupportedSchemaException($"{path}.{keyword}", $"the '{keyword}' cannot be enforced: {ex.Message}"); }
        if (!dfa.CanFinish(0, min, max))
            throw new UnsupportedSchemaException($"{path}.{keyword}", $"no string matching the '{keyword}' has {min}…{max} characters.");
        return new StringNode(min, max, dfa);
    }

    /// <summary>An integer; with bounds, spelled by a digit automaton so it is in range by construction.</summary>
    private static SchemaNode Integer(JsonElement s, string path)
    {
        decimal lo = -IntegerRanges.Limit, hi = IntegerRanges.Limit;
        var bounded = false;
        foreach (var keyword in s_bounds)
        {
            if (!s.TryGetProperty(keyword, out var v)) continue;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDecimal(out var x))
                throw new UnsupportedSchemaException($"{path}.{keyword}", "must be a number.");
            bounded = true;
            switch (keyword)
            {
                case "minimum": lo = Math.Max(lo, Math.Ceiling(x)); break;
                case "exclusiveMinimum": lo = Math.Max(lo, Math.Floor(x) + 1); break;
                case "maximum": hi = Math.Min(hi, Math.Floor(x)); break;
                default: hi = Math.Min(hi, Math.Ceiling(x) - 1); break;
            }
        }
        if (MultipleOf(s, path) is { } step)
        {
            try { return new DfaNode(NumberRanges.Build(lo, false, hi, false, step, integer: true)); }
            catch (ArgumentException ex) { throw new UnsupportedSchemaException($"{path}.multipleOf", $"'multipleOf': {ex.Message}"); }
        }
        if (!bounded) return new NumberNode(integer: true);
        if (lo > hi) throw new UnsupportedSchemaException($"{path}.minimum", "no integer lies within the bounds.");
        return new DfaNode(RegexCompiler.Compile(IntegerRanges.Pattern((long)lo, (long)hi)));
    }

    /// <summary>A number; with bounds, a plain decimal (no exponent) spelled by <see cref="NumberRanges"/>, in range by construction.</summary>
    private static SchemaNode Number(JsonElement s, string path)
    {
        decimal? lo = null, hi = null;
        bool loStrict = false, hiStrict = false;
        string? loKey = null, hiKey = null;
        foreach (var keyword in s_bounds)
        {
            if (!s.TryGetProperty(keyword, out var v)) continue;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDecimal(out var x))
                throw new UnsupportedSchemaException($"{path}.{keyword}", $"'{keyword}' must be a number within ±7.9e28.");
            // The tighter of minimum and exclusiveMinimum wins (strict when they are equal), likewise for the maximum.
            switch (keyword)
            {
                case "minimum" or "exclusiveMinimum" when lo is null || x > lo || (x == lo && keyword == "exclusiveMinimum"):
                    (lo, loStrict, loKey) = (x, keyword == "exclusiveMinimum", keyword);
                    break;
                case "maximum" or "exclusiveMaximum" when hi is null || x < hi || (x == hi && keyword == "exclusiveMaximum"):
                    (hi, hiStrict, hiKey) = (x, keyword == "exclusiveMaximum", keyword);
                    break;
            }
        }
        var step = MultipleOf(s, path);
        if (loKey is null && hiKey is null && step is null) return new NumberNode(integer: false);
        var key = step is not null ? "multipleOf" : loKey ?? hiKey;
        try { return new DfaNode(NumberRanges.Build(lo, loStrict, hi, hiStrict, step)); }
        catch (ArgumentException ex) { throw new UnsupportedSchemaException($"{path}.{key}", $"'{key}': {ex.Message}"); }
    }

    private static decimal? MultipleOf(JsonElement s, string path)
    {
        if (!s.TryGetProperty("multipleOf", out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDecimal(out var m) || m <= 0)
            throw new UnsupportedSchemaException($"{path}.multipleOf", "'multipleOf' must be a number greater than 0.");
        return m;
    }

    private SchemaNode Object(JsonElement s, string path)
    {
        var required = new List<string>();
        if (s.TryGetProperty("required", out var req))
        {
            if (req.ValueKind != JsonValueKind.Array || !req.EnumerateArray().All(r => r.ValueKind == JsonValueKind.String))
                throw new UnsupportedSchemaException($"{path}.required", "must be an array of property names.");
            required = [.. req.EnumerateArray().Select(r => r.GetString()!).Distinct()];
        }
        SchemaNode? extra = SchemaNode.Any;
        if (s.TryGetProperty("additionalProperties", out var additional))
            extra = additional.ValueKind == JsonValueKind.False ? null : Node(additional, $"{path}.additionalProperties");

        var properties = new List<ObjectProperty>();
        if (s.TryGetProperty("properties", out var props))
        {
            if (props.ValueKind != JsonValueKind.Object) throw new UnsupportedSchemaException($"{path}.properties", "must be an object.");
            foreach (var p in props.EnumerateObject())
                properties.Add(new ObjectProperty(p.Name, ObjectNode.KeyLiteralOf(p.Name), Node(p.Value, $"{path}.properties.{p.Name}"), required.Contains(p.Name)));
        }
        foreach (var name in required.Where(r => properties.All(p => p.Name != r)))
        {
            // Required but not described: it takes additionalProperties' schema, which must allow it.
            if (extra is null) throw new UnsupportedSchemaException($"{path}.required", $"'{name}' is required but neither listed in properties nor allowed by additionalProperties.");
            properties.Add(new ObjectProperty(name, ObjectNode.KeyLiteralOf(name), extra, true));
        }
        if (properties.Count > 64) throw new UnsupportedSchemaException($"{path}.properties", $"at most 64 properties per object are supported, got {properties.Count}.");
        return new ObjectNode(properties, extra);
    }

    private SchemaNode Array(JsonElement s, string path)
    {
        var items = s.TryGetProperty("items", out var i) ? Node(i, $"{path}.items") : SchemaNode.Any;
        var min = Count(s, "minItems", 0, path);
        var max = Count(s, "maxItems", int.MaxValue, path);
        if (min > max) throw new UnsupportedSchemaException($"{path}.minItems", "is larger than maxItems.");
        if (s.TryGetProperty("uniqueItems", out var unique) && unique.ValueKind != JsonValueKind.False)
            throw new UnsupportedSchemaException($"{path}.uniqueItems", "uniqueItems: true is not supported in structured output.");
        return new ArrayNode(items, min, max);
    }

    private static int Count(JsonElement s, string keyword, int fallback, string path)
    {
        if (!s.TryGetProperty(keyword, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < 0)
            throw new UnsupportedSchemaException($"{path}.{keyword}", "must be a non-negative integer.");
        return n;
    }
}

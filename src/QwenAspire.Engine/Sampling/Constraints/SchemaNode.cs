using System.Text;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// A compiled JSON value description: what <see cref="JsonMachine"/> lets through at one position. Immutable
/// and shared by every sequence of every request that uses the same compiled grammar; compared by reference.
/// </summary>
public abstract class SchemaNode
{
    private protected SchemaNode() { }

    /// <summary>Any JSON value (json_object mode inside the top-level object, and schemas that say nothing).</summary>
    public static SchemaNode Any { get; } = new AnyNode();
}

internal sealed class AnyNode : SchemaNode
{
    /// <summary>The object, array and string any value may open (objects with free keys of any value).</summary>
    public static readonly ObjectNode FreeObject = new([], Any);
    public static readonly ArrayNode FreeArray = new(Any, 0, int.MaxValue);
    public static readonly StringNode FreeString = new(0, int.MaxValue);
    public static readonly NumberNode FreeNumber = new(integer: false);
    public static readonly LiteralNode True = LiteralNode.Of("true"), False = LiteralNode.Of("false"), Null = LiteralNode.Of("null");
}

/// <param name="KeyLiteral">The key's JSON string content, escaped, followed by the closing quote.</param>
public sealed record ObjectProperty(string Name, byte[] KeyLiteral, SchemaNode Value, bool Required);

/// <summary>
/// An object. With <see cref="Properties"/>, they are written in the listed order (optional ones may be left
/// out, required ones never) and no other key is written, which every schema allowing extra keys accepts too.
/// Without properties, <see cref="FreeValues"/> (when set) allows any keys with values of that node.
/// </summary>
public sealed class ObjectNode : SchemaNode
{
    public ObjectNode(IReadOnlyList<ObjectProperty> properties, SchemaNode? freeValues)
    {
        if (properties.Count > 64) throw new ArgumentException("An object may list at most 64 properties.", nameof(properties));
        Properties = [.. properties];
        FreeValues = properties.Count == 0 ? freeValues : null;
    }

    public ObjectProperty[] Properties { get; }
    public SchemaNode? FreeValues { get; }

    /// <summary>Bit mask of the properties that may be written next when <paramref name="next"/> is the first unused one.</summary>
    public long CandidatesFrom(int next)
    {
        long mask = 0;
        for (var j = next; j < Properties.Length; j++)
        {
            mask |= 1L << j;
            if (Properties[j].Required) break; // a required property cannot be skipped
        }
        return mask;
    }

    /// <summary>True when no required property is left at or after <paramref name="next"/>.</summary>
    public bool CanClose(int next)
    {
        for (var j = next; j < Properties.Length; j++) if (Properties[j].Required) return false;
        return true;
    }

    public static byte[] KeyLiteralOf(string name)
    {
        var quoted = System.Text.Json.JsonSerializer.Serialize(name, JsonLiterals.Options); // "…" with escapes
        return Encoding.UTF8.GetBytes(quoted[1..]);
    }
}

public sealed class ArrayNode(SchemaNode items, int minItems, int maxItems) : SchemaNode
{
    public SchemaNode Items { get; } = items;
    public int MinItems { get; } = minItems;
    public int MaxItems { get; } = maxItems;
}

/// <summary>
/// A string of <see cref="MinLength"/>…<see cref="MaxLength"/> characters (code points; an escape is one),
/// whose decoded content matches <see cref="Pattern"/> when set (pattern/format; \u escapes are then not written).
/// </summary>
public sealed class StringNode(int minLength, int maxLength, Dfa? pattern = null) : SchemaNode
{
    public int MinLength { get; } = minLength;
    public int MaxLength { get; } = maxLength;
    public Dfa? Pattern { get; } = pattern;
    public bool Bounded => MinLength > 0 || MaxLength != int.MaxValue;
}

/// <summary>A bare (unquoted) value spelled by <see cref="Dfa"/>: bounded integers. It ends, like a number, at the first byte its parent takes.</summary>
public sealed class DfaNode(Dfa dfa) : SchemaNode
{
    public Dfa Dfa { get; } = dfa;
}

/// <summary>The items one after the other (tool-call framing around the arguments value). Every item writes at least one byte.</summary>
public sealed class SequenceNode(IReadOnlyList<SchemaNode> items) : SchemaNode
{
    public SchemaNode[] Items { get; } = items.Count > 0 ? [.. items] : throw new ArgumentException("A sequence needs an item.", nameof(items));
}

/// <summary><see cref="Item"/> written <see cref="Min"/>…<see cref="Max"/> times with <see cref="Separator"/> between (parallel tool calls).</summary>
public sealed class RepeatNode : SchemaNode
{
    public RepeatNode(SchemaNode item, SchemaNode separator, int min, int max)
    {
        if (min < 1 || max < min) throw new ArgumentException("A repetition needs 1 ≤ min ≤ max.");
        Item = item;
        Separator = separator;
        Min = min;
        Max = max;
        Next = new SequenceNode([separator, item]);
    }

    public SchemaNode Item { get; }
    public SchemaNode Separator { get; }
    public int Min { get; }
    public int Max { get; }
    /// <summary>Separator then item: what follows a completed item when another may come.</summary>
    internal SequenceNode Next { get; }
}

public sealed class NumberNode(bool integer) : SchemaNode
{
    /// <summary>No fraction or exponent.</summary>
    public bool Integer { get; } = integer;
}

/// <summary>Exactly these bytes (true/false/null, and each const or enum value, compactly serialised).</summary>
public sealed class LiteralNode(byte[] bytes) : SchemaNode
{
    public byte[] Bytes { get; } = bytes.Length > 0 ? bytes : throw new ArgumentException("A literal needs at least one byte.", nameof(bytes));
    public static LiteralNode Of(string json) => new(Encoding.UTF8.GetBytes(json));
}

/// <summary>Any one of the options (anyOf, oneOf, type lists, enum); the machine follows all that still match.</summary>
public sealed class UnionNode(IReadOnlyList<SchemaNode> options) : SchemaNode
{
    public SchemaNode[] Options { get; } = [.. options];
}

/// <summary>A <c>$ref</c>: resolved after compiling, so recursive schemas work.</summary>
public sealed class RefNode : SchemaNode
{
    public SchemaNode? Target { get; set; }
}

internal static class JsonLiterals
{
    /// <summary>Keeps non-ASCII text as UTF-8 (what a model writes), escaping only what JSON requires.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

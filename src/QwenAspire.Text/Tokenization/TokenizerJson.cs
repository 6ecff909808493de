using System.Text.Json;

namespace QwenAspire.Text.Tokenization;

/// <summary>One entry of tokenizer.json's <c>added_tokens</c>.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool Normalized);

/// <summary>
/// The parts of a Hugging Face <c>tokenizer.json</c> a Qwen3 byte-level BPE needs, checked so that a file
/// describing a different pipeline is refused with the offending field named, never silently mis-encoded.
/// </summary>
internal sealed class TokenizerJson
{
    /// <summary>The split pattern of Qwen2/Qwen2.5/Qwen3, which <see cref="Qwen3PreTokenizer"/> implements.</summary>
    public const string QwenSplitPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public required Dictionary<string, int> Vocab { get; init; }
    public required List<(string Left, string Right)> Merges { get; init; }
    public required List<AddedToken> AddedTokens { get; init; }
    public required bool Nfc { get; init; }
    public required bool IgnoreMerges { get; init; }

    public static TokenizerJson Parse(Stream stream, string source)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            var reader = new Reader(source);
            if (root.ValueKind != JsonValueKind.Object) throw reader.Error("", "the root must be a JSON object");

            var model = reader.Object(root, "model");
            var type = reader.String(model, "type", "model.type");
            if (type != "BPE") throw reader.Error("model.type", $"'{type}' is not supported (only BPE)");
            reader.RequireFalseOrAbsent(model, "byte_fallback", "model.byte_fallback");
            reader.RequireEmptyOrAbsent(model, "continuing_subword_prefix", "model.continuing_subword_prefix");
            reader.RequireEmptyOrAbsent(model, "end_of_word_suffix", "model.end_of_word_suffix");
            if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
                throw reader.Error("model.dropout", "BPE dropout is not supported");

            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var entry in reader.Object(model, "vocab", "model.vocab").EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                    throw reader.Error($"model.vocab[\"{entry.Name}\"]", "must be a non-negative integer id");
                vocab[entry.Name] = id;
            }

            var merges = new List<(string, string)>();
            var mergesElement = reader.Property(model, "merges", "model.merges", JsonValueKind.Array);
            var index = 0;
            foreach (var m in mergesElement.EnumerateArray())
            {
                merges.Add(ParseMerge(m, reader, $"model.merges[{index}]"));
                index++;
            }

            var added = new List<AddedToken>();
            if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind == JsonValueKind.Array)
            {
                index = 0;
                foreach (var a in addedElement.EnumerateArray())
                {
                    var field = $"added_tokens[{index++}]";
                    foreach (var flag in new[] { "lstrip", "rstrip", "single_word" })
                        reader.RequireFalseOrAbsent(a, flag, $"{field}.{flag}");
                    var idElement = reader.Property(a, "id", $"{field}.id", JsonValueKind.Number);
                    if (!idElement.TryGetInt32(out var id) || id < 0) throw reader.Error($"{field}.id", "must be a non-negative integer");
                    added.Add(new AddedToken(id, reader.String(a, "content", $"{field}.content"),
                        a.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True,
                        a.TryGetProperty("normalized", out var no) && no.ValueKind == JsonValueKind.True));
                }
            }

            return new TokenizerJson
            {
                Vocab = vocab,
                Merges = merges,
                AddedTokens = added,
                Nfc = ReadNormalizer(root, reader),
                IgnoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True,
            }.Validated(root, reader);
        }
    }

    private TokenizerJson Validated(JsonElement root, Reader reader)
    {
        var pre = reader.Object(root, "pre_tokenizer");
        var steps = TypeOf(pre) == "Sequence"
            ? reader.Property(pre, "pretokenizers", "pre_tokenizer.pretokenizers", JsonValueKind.Array).EnumerateArray().ToArray()
            : [pre];
        var split = steps.Length == 2 ? steps[0] : default;
        var splitOk = split.ValueKind == JsonValueKind.Object
            && TypeOf(split) == "Split"
            && split.TryGetProperty("pattern", out var pattern) && StringOf(pattern, "Regex") == QwenSplitPattern
            && StringOf(split, "behavior") == "Isolated"
            && !(split.TryGetProperty("invert", out var invert) && invert.ValueKind == JsonValueKind.True);
        var byteLevelOk = steps.Length == 2 && IsByteLevel(steps[1], requireNoRegex: true);
        if (!splitOk || !byteLevelOk)
            throw reader.Error("pre_tokenizer", "only Qwen's Sequence[Split(Qwen pattern, Isolated), ByteLevel(use_regex=false, add_prefix_space=false)] is supported");

        if (!root.TryGetProperty("decoder", out var decoder) || !IsByteLevel(decoder, requireNoRegex: false))
            throw reader.Error("decoder", "only the ByteLevel decoder is supported");
        return this;
    }

    private static bool IsByteLevel(JsonElement e, bool requireNoRegex) =>
        TypeOf(e) == "ByteLevel"
        && !(e.TryGetProperty("add_prefix_space", out var ap) && ap.ValueKind == JsonValueKind.True)
        && !(requireNoRegex && e.TryGetProperty("use_regex", out var ur) && ur.ValueKind == JsonValueKind.True);

    private static bool ReadNormalizer(JsonElement root, Reader reader)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null) return false;
        var type = TypeOf(n);
        return type == "NFC" ? true : throw reader.Error("normalizer", $"'{type}' is not supported (only NFC or none)");
    }

    private static string? TypeOf(JsonElement e) => StringOf(e, "type");

    private static string? StringOf(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    private static (string, string) ParseMerge(JsonElement m, Reader reader, string field)
    {
        if (m.ValueKind == JsonValueKind.String)
        {
            // Older files write "left right"; neither side can contain a space in byte-level vocabularies.
            var s = m.GetString()!;
            var space = s.IndexOf(' ');
            if (space <= 0 || space == s.Length - 1 || s.IndexOf(' ', space + 1) >= 0)
                throw reader.Error(field, $"'{s}' is not 'left right'");
            return (s[..space], s[(space + 1)..]);
        }
        if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2
            && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
            return (m[0].GetString()!, m[1].GetString()!);
        throw reader.Error(field, "must be a [left, right] pair of strings or a 'left right' string");
    }

    private readonly struct Reader(string source)
    {
        public InvalidDataException Error(string field, string message) =>
            new(field.Length == 0 ? $"{source}: {message}." : $"{source}: field '{field}': {message}.");

        public JsonElement Property(JsonElement parent, string name, string field, JsonValueKind kind) =>
            parent.TryGetProperty(name, out var v) && v.ValueKind == kind
                ? v
                : throw Error(field, $"missing or not a JSON {kind.ToString().ToLowerInvariant()}");

        public JsonElement Object(JsonElement parent, string name, string? field = null) =>
            Property(parent, name, field ?? name, JsonValueKind.Object);

        public string String(JsonElement parent, string name, string field) =>
            Property(parent, name, field, JsonValueKind.String).GetString()!;

        public void RequireFalseOrAbsent(JsonElement parent, string name, string field)
        {
            if (parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True)
                throw Error(field, "true is not supported");
        }

        public void RequireEmptyOrAbsent(JsonElement parent, string name, string field)
        {
            if (parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
                throw Error(field, "a non-empty value is not supported");
        }
    }
}

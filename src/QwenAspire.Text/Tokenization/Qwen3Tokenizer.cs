using System.Buffers;
using System.Text;
using QwenAspire.Text.Assets;

namespace QwenAspire.Text.Tokenization;

/// <summary>
/// Qwen3's byte-level BPE tokenizer, read from a Hugging Face <c>tokenizer.json</c> and exact to HF
/// <c>tokenizers</c>: added tokens are matched in the raw text first, the rest is NFC-normalised, split by
/// Qwen's pre-tokenizer, byte-mapped and merged. Encode adds no BOS/EOS (Qwen3 adds none). Thread-safe.
/// </summary>
public sealed class Qwen3Tokenizer
{
    private readonly BytePairModel _bpe;
    private readonly AddedTokenMatcher _rawAdded;
    private readonly AddedTokenMatcher _normalizedAdded;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly string?[] _idToToken;
    private readonly byte[][] _idToBytes;
    private readonly bool[] _special;
    private readonly bool[] _added;
    private readonly bool _nfc;

    private Qwen3Tokenizer(TokenizerJson json, string source)
    {
        var byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            var token = ByteLevel.ByteToChar[b].ToString();
            byteIds[b] = json.Vocab.TryGetValue(token, out var id)
                ? id
                : throw new InvalidDataException($"{source}: field 'model.vocab': no entry for byte 0x{b:X2} ('{token}'); a byte-level vocab needs all 256.");
        }

        var merges = new List<(int, int, int)>(json.Merges.Count);
        for (var i = 0; i < json.Merges.Count; i++)
        {
            var (left, right) = json.Merges[i];
            if (!json.Vocab.TryGetValue(left, out var l) || !json.Vocab.TryGetValue(right, out var r)
                || !json.Vocab.TryGetValue(left + right, out var merged))
                throw new InvalidDataException($"{source}: field 'model.merges[{i}]': '{left} {right}' uses or makes a token missing from model.vocab.");
            merges.Add((l, r, merged));
        }
        _bpe = new BytePairModel(byteIds, merges, json.IgnoreMerges ? json.Vocab : null);

        _tokenToId = new Dictionary<string, int>(json.Vocab, StringComparer.Ordinal);
        foreach (var a in json.AddedTokens) _tokenToId[a.Content] = a.Id;
        var size = _tokenToId.Values.Max() + 1;
        _idToToken = new string?[size];
        foreach (var (token, id) in json.Vocab) _idToToken[id] = token;
        _special = new bool[size];
        _added = new bool[size];
        foreach (var a in json.AddedTokens)
        {
            _idToToken[a.Id] = a.Content;
            _special[a.Id] = a.Special;
            _added[a.Id] = true;
        }
        _idToBytes = new byte[size][];
        for (var id = 0; id < size; id++)
            _idToBytes[id] = _idToToken[id] is { } t ? ByteLevel.TokenToBytes(t) : [];

        _rawAdded = new AddedTokenMatcher(json.AddedTokens.Where(a => !a.Normalized).Select(a => (a.Content, a.Id)));
        _normalizedAdded = new AddedTokenMatcher(json.AddedTokens.Where(a => a.Normalized).Select(a => (a.Content, a.Id)));
        _nfc = json.Nfc;
    }

    /// <summary>Loads a tokenizer.json file.</summary>
    public static Qwen3Tokenizer Load(string tokenizerJsonPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerJsonPath);
        using var stream = File.OpenRead(tokenizerJsonPath);
        return new Qwen3Tokenizer(TokenizerJson.Parse(stream, tokenizerJsonPath), tokenizerJsonPath);
    }

    /// <summary>Loads tokenizer.json content from a stream (left open).</summary>
    public static Qwen3Tokenizer Load(Stream tokenizerJson)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        return new Qwen3Tokenizer(TokenizerJson.Parse(tokenizerJson, "tokenizer.json"), "tokenizer.json");
    }

    /// <summary>The real Qwen3 tokenizer embedded in the engine assembly.</summary>
    public static Qwen3Tokenizer LoadEmbedded()
    {
        using var stream = Qwen3Assets.OpenRead(Qwen3Assets.TokenizerJson);
        return new Qwen3Tokenizer(TokenizerJson.Parse(stream, "embedded " + Qwen3Assets.TokenizerJson), "embedded " + Qwen3Assets.TokenizerJson);
    }

    /// <summary>Number of ids the tokenizer knows (BPE vocab plus added tokens): 151,669 for Qwen3.</summary>
    public int VocabSize => _idToToken.Length;

    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out var id) ? id : null;

    /// <summary>The vocab spelling of an id (byte-level chars for BPE tokens), or null if unknown.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>True for added tokens marked <c>special</c> (e.g. <c>&lt;|im_end|&gt;</c>), false for <c>&lt;think&gt;</c> and the like.</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)_special.Length && _special[id];

    /// <summary>True for every added token (special or not: &lt;think&gt;, &lt;tool_call&gt;…), which a grammar never allows.</summary>
    public bool IsAddedToken(int id) => (uint)id < (uint)_added.Length && _added[id];

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 2 + 4);
        var span = ReplaceLoneSurrogates(text).AsSpan();
        var from = 0;
        while (from < span.Length)
        {
            var (start, length, id) = _rawAdded.FindNext(span, from);
            var segmentEnd = start < 0 ? span.Length : start;
            if (segmentEnd > from) EncodeSegment(span[from..segmentEnd], output);
            if (start < 0) break;
            output.Add(id);
            from = start + length;
        }
        return [.. output];
    }

    private void EncodeSegment(ReadOnlySpan<char> raw, List<int> output)
    {
        var text = _nfc ? Nfc(raw) : raw;
        if (_normalizedAdded.IsEmpty)
        {
            EncodeOrdinary(text, output);
            return;
        }
        var from = 0;
        while (from < text.Length)
        {
            var (start, length, id) = _normalizedAdded.FindNext(text, from);
            var segmentEnd = start < 0 ? text.Length : start;
            if (segmentEnd > from) EncodeOrdinary(text[from..segmentEnd], output);
            if (start < 0) break;
            output.Add(id);
            from = start + length;
        }
    }

    private void EncodeOrdinary(ReadOnlySpan<char> text, List<int> output)
    {
        for (var i = 0; i < text.Length;)
        {
            var end = Qwen3PreTokenizer.NextEnd(text, i);
            _bpe.Encode(text[i..end], output);
            i = end;
        }
    }

    private static ReadOnlySpan<char> Nfc(ReadOnlySpan<char> text)
    {
        // Everything below U+0300 is NFC-stable and cannot combine, so ASCII/Latin-1 text skips ICU.
        if (text.IndexOfAnyExceptInRange('\0', '\u02FF') < 0 || text.IsNormalized()) return text;

        // '\n' neither composes nor reorders with its neighbours, so NFC(a + "\n" + b) = NFC(a) + "\n" + NFC(b):
        // only the lines that need it go through ICU, which matters for long prompts with one odd char.
        var result = new StringBuilder(text.Length);
        foreach (var range in text.Split('\n'))
        {
            if (range.Start.Value > 0) result.Append('\n');
            var line = text[range];
            if (line.IsNormalized()) result.Append(line);
            else result.Append(line.ToString().Normalize(NormalizationForm.FormC));
        }
        return result.ToString();
    }

    /// <summary>UTF-8 (and so HF) cannot carry lone surrogates; they become U+FFFD, as UTF-8 encoding would make them.</summary>
    private static string ReplaceLoneSurrogates(string text)
    {
        var first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0) return text;
        char[]? copy = null;
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            copy ??= text.ToCharArray();
            copy[i] = '\uFFFD';
        }
        return copy is null ? text : new string(copy);
    }

    /// <summary>
    /// Text of <paramref name="ids"/>; invalid UTF-8 becomes U+FFFD. Ids the tokenizer does not know (the
    /// embedding's padding rows) decode to nothing. <paramref name="skipSpecialTokens"/> drops only special added tokens.
    /// </summary>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var total = 0;
        for (var i = 0; i < ids.Count; i++) total += TokenBytes(ids[i], skipSpecialTokens).Length;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(total, 1));
        try
        {
            var at = 0;
            for (var i = 0; i < ids.Count; i++)
            {
                var bytes = TokenBytes(ids[i], skipSpecialTokens);
                bytes.CopyTo(buffer.AsSpan(at));
                at += bytes.Length;
            }
            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A streaming decoder that emits text only at whole-character boundaries.</summary>
    public IncrementalDetokenizer CreateDetokenizer(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    /// <summary>Raw bytes of one id (empty for unknown ids and, when skipping, special tokens).</summary>
    internal ReadOnlySpan<byte> TokenBytes(int id, bool skipSpecialTokens) =>
        (uint)id >= (uint)_idToBytes.Length || (skipSpecialTokens && _special[id]) ? default : _idToBytes[id];
}

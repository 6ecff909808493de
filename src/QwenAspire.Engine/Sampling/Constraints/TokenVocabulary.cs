using QwenAspire.Text.Tokenization;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// What a grammar needs from the tokenizer: each ordinary token's bytes (as a <see cref="TokenTrie"/>) and the
/// end-of-sequence ids. Added tokens (&lt;think&gt;, &lt;|im_start|&gt;…) are never allowed inside constrained output,
/// except the grammar tokens (&lt;tool_call&gt;, &lt;/tool_call&gt;), each spelled by one pseudo byte; eos ids are allowed exactly when the value is complete. Build once per tokenizer.
/// </summary>
public sealed class TokenVocabulary
{
    private readonly byte[]?[] _bytes;

    /// <summary>Pseudo bytes for added tokens a grammar may name: never in valid UTF-8, so no text can spell them.</summary>
    private const byte FirstGrammarByte = 0xF8;
    private readonly Dictionary<string, byte[]> _grammarTokens = new(StringComparer.Ordinal);

    /// <param name="grammarTokens">Added tokens (id → text) that grammars may require, such as &lt;tool_call&gt;; at most 8.</param>
    public TokenVocabulary(IReadOnlyList<byte[]?> tokenBytes, IEnumerable<int> eosTokenIds, IReadOnlyDictionary<int, string>? grammarTokens = null)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        _bytes = [.. tokenBytes];
        EosTokenIds = [.. eosTokenIds.Distinct().Order()];
        foreach (var eos in EosTokenIds) if ((uint)eos < (uint)_bytes.Length) _bytes[eos] = null;
        // Bytes 0xF5-0xFF never occur in well-formed UTF-8, so no JSON output holds them: such tokens were never
        // allowed, and dropping them frees 0xF8-0xFF to stand for grammar tokens.
        for (var id = 0; id < _bytes.Length; id++)
            if (_bytes[id] is { } b && b.AsSpan().IndexOfAnyInRange((byte)0xF5, (byte)0xFF) >= 0) _bytes[id] = null;
        if (grammarTokens is not null)
        {
            if (grammarTokens.Count > 8) throw new ArgumentException("At most 8 grammar tokens.", nameof(grammarTokens));
            var k = 0;
            foreach (var (id, text) in grammarTokens.OrderBy(kv => kv.Key))
            {
                if ((uint)id >= (uint)_bytes.Length) throw new ArgumentOutOfRangeException(nameof(grammarTokens), $"Token {id} is outside the vocabulary.");
                _bytes[id] = [(byte)(FirstGrammarByte + k++)];
                _grammarTokens[text] = _bytes[id]!;
            }
        }
        Trie = new TokenTrie(_bytes);
        _strings = new Lazy<StringTokenTable>(() => new StringTokenTable(this));
    }

    private readonly Lazy<StringTokenTable> _strings;

    /// <summary>Built on first use (the first constrained request that writes a string), or by <see cref="Prepare"/>.</summary>
    internal StringTokenTable Strings => _strings.Value;

    /// <summary>Builds the tables made on first use now, so no engine step pays for them; returns this.</summary>
    public TokenVocabulary Prepare()
    {
        _ = _strings.Value;
        return this;
    }

    public static TokenVocabulary FromTokenizer(Qwen3Tokenizer tokenizer, IEnumerable<int> eosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var bytes = new byte[]?[tokenizer.VocabSize];
        for (var id = 0; id < bytes.Length; id++)
            bytes[id] = tokenizer.IsAddedToken(id) ? null : tokenizer.TokenBytes(id, skipSpecialTokens: false).ToArray();
        var grammar = new Dictionary<int, string>();
        foreach (var text in GrammarTokenTexts)
            if (tokenizer.TokenToId(text) is { } id && tokenizer.IsAddedToken(id)) grammar[id] = text;
        return new TokenVocabulary(bytes, eosTokenIds, grammar);
    }

    /// <summary>The added tokens Qwen3 grammars use (tool-call framing).</summary>
    public static readonly string[] GrammarTokenTexts = ["<tool_call>", "</tool_call>"];

    /// <summary>
    /// What a grammar writes for the added token <paramref name="text"/>: its pseudo byte, so only that token
    /// matches; or the text's own bytes when the tokenizer has no such added token (ordinary tokens spell it).
    /// </summary>
    public byte[] GrammarBytesOf(string text) =>
        _grammarTokens.TryGetValue(text, out var pseudo) ? pseudo : System.Text.Encoding.UTF8.GetBytes(text);

    public TokenTrie Trie { get; }
    public int[] EosTokenIds { get; }

    /// <summary>Ids with bytes (the tokenizer's size); logits rows may be longer (embedding padding), never allowed.</summary>
    public int Count => _bytes.Length;

    /// <summary>The bytes of an ordinary token, or empty for added, eos and unknown ids.</summary>
    public ReadOnlySpan<byte> BytesOf(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : default;

    public bool IsEos(int id) => Array.IndexOf(EosTokenIds, id) >= 0;
}

using QwenAspire.Text.Tokenization;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// What a grammar needs from the tokenizer: each ordinary token's bytes (as a <see cref="TokenTrie"/>) and the
/// end-of-sequence ids. Added tokens (&lt;think&gt;, &lt;tool_call&gt;, &lt;|im_start|&gt;…) are never allowed inside
/// constrained output; eos ids are allowed exactly when the value is complete. Build once per tokenizer.
/// </summary>
public sealed class TokenVocabulary
{
    private readonly byte[]?[] _bytes;

    public TokenVocabulary(IReadOnlyList<byte[]?> tokenBytes, IEnumerable<int> eosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        _bytes = [.. tokenBytes];
        EosTokenIds = [.. eosTokenIds.Distinct().Order()];
        foreach (var eos in EosTokenIds) if ((uint)eos < (uint)_bytes.Length) _bytes[eos] = null;
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
        return new TokenVocabulary(bytes, eosTokenIds);
    }

    public TokenTrie Trie { get; }
    public int[] EosTokenIds { get; }

    /// <summary>Ids with bytes (the tokenizer's size); logits rows may be longer (embedding padding), never allowed.</summary>
    public int Count => _bytes.Length;

    /// <summary>The bytes of an ordinary token, or empty for added, eos and unknown ids.</summary>
    public ReadOnlySpan<byte> BytesOf(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : default;

    public bool IsEos(int id) => Array.IndexOf(EosTokenIds, id) >= 0;
}

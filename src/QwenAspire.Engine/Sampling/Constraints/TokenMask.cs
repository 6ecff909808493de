namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// The tokens one grammar state allows: a sorted id list when few are (most states outside strings), a bit
/// set when many are (inside strings); plus whether eos is allowed. Immutable, so shared through the cache.
/// </summary>
internal sealed class TokenMask
{
    private const int DenseFraction = 32;
    private readonly int[]? _ids;
    private readonly ulong[]? _bits;

    /// <param name="allowed">Bit per allowed ordinary token id; copied (sparse masks keep an id list instead).</param>
    public TokenMask(ulong[] allowed, int count, int vocabulary, bool eosAllowed, int[] eosIds)
    {
        Count = count;
        EosAllowed = eosAllowed;
        if (count > vocabulary / DenseFraction) _bits = (ulong[])allowed.Clone();
        else
        {
            _ids = new int[count];
            var n = 0;
            for (var w = 0; w < allowed.Length && n < count; w++)
                for (var word = allowed[w]; word != 0; word &= word - 1)
                    _ids[n++] = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
        }
        var total = Count + (eosAllowed ? eosIds.Length : 0);
        Forced = total != 1 ? -1 : Count == 1 ? _ids![0] : eosIds[0];
    }

    /// <summary>Ordinary tokens allowed (eos not counted).</summary>
    public int Count { get; }
    public bool EosAllowed { get; }
    /// <summary>The only token allowed (eos included), or -1.</summary>
    public int Forced { get; }
    public long Bytes => (_ids?.Length ?? 0) * 4L + (_bits?.Length ?? 0) * 8L;

    public bool Allows(int id, int[] eosIds) =>
        _bits is not null ? (uint)(id >> 6) < (uint)_bits.Length && (_bits[id >> 6] & (1UL << id)) != 0 || EosAllowed && Array.IndexOf(eosIds, id) >= 0
            : Array.BinarySearch(_ids!, id) >= 0 || EosAllowed && Array.IndexOf(eosIds, id) >= 0;

    /// <summary>Sets every disallowed logit to −∞; <paramref name="scratch"/> holds at least the allowed count plus the eos ids.</summary>
    public void Apply(Span<float> logits, int[] eosIds, float[] scratch)
    {
        if (_bits is not null)
        {
            // eos ids have no bits: keep their logits across the clearing pass when eos is allowed.
            if (EosAllowed) for (var e = 0; e < eosIds.Length; e++) scratch[e] = At(logits, eosIds[e]);
            var words = _bits;
            for (var w = 0; w < words.Length; w++)
            {
                var word = words[w];
                if (word == ulong.MaxValue) continue;
                var baseId = w << 6;
                var limit = Math.Min(64, logits.Length - baseId);
                for (var k = 0; k < limit; k++)
                    if ((word & (1UL << k)) == 0) logits[baseId + k] = float.NegativeInfinity;
            }
            // Rows past the tokenizer's ids (embedding padding) are never tokens a grammar allows.
            var covered = words.Length << 6;
            if (logits.Length > covered) logits[covered..].Fill(float.NegativeInfinity);
            if (EosAllowed) Restore(logits, eosIds, scratch, 0);
            return;
        }
        var ids = _ids!;
        for (var i = 0; i < ids.Length; i++) scratch[i] = At(logits, ids[i]);
        if (EosAllowed) for (var e = 0; e < eosIds.Length; e++) scratch[ids.Length + e] = At(logits, eosIds[e]);
        logits.Fill(float.NegativeInfinity);
        // A model whose rows stop short of the tokenizer's ids simply never offers the missing ones.
        for (var i = 0; i < ids.Length && ids[i] < logits.Length; i++) logits[ids[i]] = scratch[i];
        if (EosAllowed) Restore(logits, eosIds, scratch, ids.Length);
    }

    private static float At(Span<float> logits, int id) => (uint)id < (uint)logits.Length ? logits[id] : float.NegativeInfinity;

    private static void Restore(Span<float> logits, int[] eosIds, float[] scratch, int from)
    {
        for (var e = 0; e < eosIds.Length; e++)
            if ((uint)eosIds[e] < (uint)logits.Length) logits[eosIds[e]] = scratch[from + e];
    }
}

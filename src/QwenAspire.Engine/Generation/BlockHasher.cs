namespace QwenAspire.Engine.Generation;

/// <summary>Hash of one full KV block chained over the previous block's hash, its tokens and the adapter identity.</summary>
internal delegate ulong BlockHasher(ulong previous, long adapterId, ReadOnlySpan<int> tokens);

internal static class BlockHashes
{
    /// <summary>Chain seed of a sequence's first block.</summary>
    public const ulong Seed = 0x9E3779B97F4A7C15UL;

    /// <summary>
    /// A 64-bit mix (splitmix64's finalizer per element). Collisions only cost a cache miss: a hit is
    /// confirmed against the cached block's tokens and parent, so the hash need not be cryptographic.
    /// </summary>
    public static ulong Default(ulong previous, long adapterId, ReadOnlySpan<int> tokens)
    {
        var h = Mix(previous ^ Mix((ulong)adapterId + Seed));
        foreach (var t in tokens) h = Mix(h ^ (uint)t);
        return h;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

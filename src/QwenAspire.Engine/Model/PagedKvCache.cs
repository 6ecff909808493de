using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// The paged KV pool: per layer one K and one V tensor of (slots, kv_heads, head_dim), slots = blocks ×
/// block size, allocated once. A slot's per-head vector is contiguous (what the SIMD attention reads), and
/// the torch paths gather a sequence's slots with index_select. Which block belongs to which sequence is
/// the engine's bookkeeping; the pool only stores.
/// </summary>
public sealed class PagedKvCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;

    public PagedKvCache(Qwen3Config config, int blockSize, int blockCount, ScalarType dtype, Device device)
    {
        if (blockSize <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "KV block size must be positive.");
        if (blockCount <= 0) throw new ArgumentOutOfRangeException(nameof(blockCount), blockCount, "KV block count must be positive.");
        if ((long)blockSize * blockCount > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(blockCount), $"{blockCount} blocks of {blockSize} exceed int slots.");
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"KV dtype must be f32, bf16 or f16, not {dtype}.", nameof(dtype));
        BlockSize = blockSize;
        BlockCount = blockCount;
        DType = dtype;
        Device = device;
        KeyValueHeads = config.KeyValueHeads;
        HeadDim = config.HeadDim;
        _keys = new Tensor[config.NumHiddenLayers];
        _values = new Tensor[config.NumHiddenLayers];
        try
        {
            for (var layer = 0; layer < _keys.Length; layer++)
            {
                // empty, not zeros: untouched pages stay unbacked until a block is first written; every read
                // path only reads slots the engine has written.
                _keys[layer] = empty([SlotCount, KeyValueHeads, HeadDim], dtype, device).DetachFromDisposeScope();
                _values[layer] = empty([SlotCount, KeyValueHeads, HeadDim], dtype, device).DetachFromDisposeScope();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int BlockSize { get; }
    public int BlockCount { get; }
    public int SlotCount => BlockSize * BlockCount;
    public ScalarType DType { get; }
    public Device Device { get; }
    public int KeyValueHeads { get; }
    public int HeadDim { get; }
    public int Layers => _keys.Length;
    public long Bytes => BytesPerToken(Layers, KeyValueHeads, HeadDim, DType) * SlotCount;

    /// <summary>(slots, kv_heads, head_dim) keys of <paramref name="layer"/>.</summary>
    public Tensor Keys(int layer) => _keys[layer];
    /// <summary>(slots, kv_heads, head_dim) values of <paramref name="layer"/>.</summary>
    public Tensor Values(int layer) => _values[layer];

    /// <summary>Writes k, v (N, kv_heads, head_dim) into <paramref name="slots"/> (N, int64) of <paramref name="layer"/>.</summary>
    public void Write(int layer, Tensor slots, Tensor k, Tensor v)
    {
        _keys[layer].index_copy_(0, slots, k.to(DType));
        _values[layer].index_copy_(0, slots, v.to(DType));
    }

    /// <summary>K and V bytes one token takes over all layers.</summary>
    public static long BytesPerToken(int layers, int kvHeads, int headDim, ScalarType dtype) =>
        2L * layers * kvHeads * headDim * (dtype == ScalarType.Float32 ? 4 : 2);

    public void Dispose()
    {
        foreach (var t in _keys) t?.Dispose();
        foreach (var t in _values) t?.Dispose();
    }
}

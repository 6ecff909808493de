using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// One sequence's key/value cache: per layer K and V as (kv_heads, capacity, head_dim) f32, grown by
/// doubling so a decode step writes in place instead of re-concatenating the whole history.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;
    private readonly int _maxLength;
    private long _capacity;

    public KvCache(Qwen3Config config, Device? device = null)
    {
        _keys = new Tensor?[config.NumHiddenLayers];
        _values = new Tensor?[config.NumHiddenLayers];
        _maxLength = config.MaxPositionEmbeddings;
        KeyValueHeads = config.KeyValueHeads;
        HeadDim = config.HeadDim;
        Device = device ?? CPU;
    }

    public int KeyValueHeads { get; }
    public int HeadDim { get; }
    public Device Device { get; }
    /// <summary>Tokens already stored (the position of the next token).</summary>
    public int Length { get; private set; }

    /// <summary>Makes room for <paramref name="newTokens"/> more positions (call once per forward, before the layers).</summary>
    public void Reserve(int newTokens)
    {
        var needed = (long)Length + newTokens;
        if (needed > _maxLength)
            throw new ArgumentOutOfRangeException(nameof(newTokens), $"{needed} tokens exceed the model's context length of {_maxLength}.");
        if (needed <= _capacity) return;
        var capacity = Math.Min(_maxLength, Math.Max(needed, Math.Max(64, _capacity * 2)));
        for (var layer = 0; layer < _keys.Length; layer++)
        {
            _keys[layer] = Grow(_keys[layer], capacity);
            _values[layer] = Grow(_values[layer], capacity);
        }
        _capacity = capacity;
    }

    /// <summary>Writes this step's k, v (kv_heads, T, head_dim) and returns the whole history (kv_heads, Length + T, head_dim).</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        var t = k.shape[1];
        var keys = _keys[layer]!;
        var values = _values[layer]!;
        keys.narrow(1, Length, t).copy_(k);
        values.narrow(1, Length, t).copy_(v);
        return (keys.narrow(1, 0, Length + t), values.narrow(1, 0, Length + t));
    }

    /// <summary>Advances the length once every layer has appended this step's tokens.</summary>
    public void Commit(int newTokens) => Length += newTokens;

    private Tensor Grow(Tensor? old, long capacity)
    {
        var grown = zeros([KeyValueHeads, capacity, HeadDim], ScalarType.Float32, Device).DetachFromDisposeScope();
        if (old is not null)
        {
            if (Length > 0) grown.narrow(1, 0, Length).copy_(old.narrow(1, 0, Length));
            old.Dispose();
        }
        return grown;
    }

    public void Dispose()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
        _capacity = 0;
        Length = 0;
    }
}

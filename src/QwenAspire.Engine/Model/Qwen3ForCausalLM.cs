using QwenAspire.Engine.Model.Lora;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// Qwen3 causal LM on TorchSharp. Weights keep their HF names (<see cref="Qwen3Weights"/>), so loading is
/// a name-driven walk over the checkpoint (<see cref="Qwen3Loader"/>). One forward = one dispose scope.
/// </summary>
public sealed class Qwen3ForCausalLM : IDisposable
{
    private readonly Dictionary<string, Qwen3Linear> _linears;

    internal Qwen3ForCausalLM(Qwen3Config config, ModelDType dtype, Device device, Tensor embedTokens, Tensor norm,
        Tensor? lmHead, Func<string, Tensor> take, LinearPolicy policy)
    {
        Config = config;
        DType = dtype;
        Device = device;
        EmbedTokens = embedTokens;
        Norm = norm;
        _linears = new Dictionary<string, Qwen3Linear>(StringComparer.Ordinal);
        Qwen3Linear Linear(string module)
        {
            var linear = new Qwen3Linear(module, take(module + ".weight"), policy);
            _linears[module] = linear;
            return linear;
        }
        Layers = [.. Enumerable.Range(0, config.NumHiddenLayers).Select(i => new Qwen3DecoderLayer(i, config, take, Linear))];
        // Tied: lm_head shares the embedding tensor (HF tie_word_embeddings); never merged by LoRA.
        LmHead = new Qwen3Linear("lm_head", lmHead ?? embedTokens, policy);
        Rope = new RotaryEmbedding(config.HeadDim, config.RopeTheta);
    }

    public Qwen3Config Config { get; }
    public ModelDType DType { get; }
    public Device Device { get; }
    public Tensor EmbedTokens { get; private set; }
    public Tensor Norm { get; }
    public IReadOnlyList<Qwen3DecoderLayer> Layers { get; }
    public Qwen3Linear LmHead { get; }
    public RotaryEmbedding Rope { get; }
    /// <summary>Per-layer linear modules by HF module name (e.g. <c>model.layers.0.mlp.up_proj</c>).</summary>
    public IReadOnlyDictionary<string, Qwen3Linear> Linears => _linears;
    /// <summary>Names of adapters attached unmerged (selectable per forward).</summary>
    public HashSet<string> AttachedAdapters { get; } = new(StringComparer.Ordinal);
    /// <summary>The adapter merged into the weights, if any (the base model is then no longer available).</summary>
    public string? MergedAdapter { get; private set; }
    /// <summary>How the per-layer linear weights are stored (set by <see cref="Quantize"/>).</summary>
    public WeightQuantization Quantization { get; private set; }

    public static Qwen3ForCausalLM Load(string folder, ModelLoadOptions? options = null) => Qwen3Loader.Load(folder, options ?? new ModelLoadOptions());

    public KvCache NewCache() => new(Config, Device);

    /// <summary>
    /// Feeds <paramref name="tokens"/> after the cache's contents and returns f32 logits (R, vocab) for the
    /// rows in <paramref name="logitRows"/> (indices into <paramref name="tokens"/>; default: the last one).
    /// The result belongs to the caller's dispose scope (or to the caller, when it has none).
    /// </summary>
    public Tensor Forward(ReadOnlySpan<int> tokens, KvCache cache, string? adapter = null, IReadOnlyList<long>? logitRows = null)
    {
        if (tokens.Length == 0) throw new ArgumentException("at least one token is needed.", nameof(tokens));
        if (adapter is not null && !AttachedAdapters.Contains(adapter))
            throw new ArgumentException($"adapter '{adapter}' is not attached to this model.", nameof(adapter));
        var ids = new long[tokens.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            var id = tokens[i];
            if ((uint)id >= (uint)Config.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {id} is outside the vocabulary (0..{Config.VocabSize - 1}).");
            ids[i] = id;
        }
        using var inference = inference_mode();
        var t = ids.Length;
        // Few-row steps spend their time in the SIMD GEMV's own threads; libtorch's remaining ops are tiny, and
        // its OpenMP workers spinning after each parallel op would steal the cores the GEMV needs.
        var threads = get_num_threads();
        var singleThreaded = threads > 1 && LmHead.Weight.RunsOnKernelThreads(t) && _linears.Values.All(l => l.Weight.RunsOnKernelThreads(t));
        if (singleThreaded) set_num_threads(1);
        try
        {
            return ForwardLayers(ids, cache, adapter, logitRows);
        }
        finally
        {
            if (singleThreaded) set_num_threads(threads);
        }
    }

    private Tensor ForwardLayers(long[] ids, KvCache cache, string? adapter, IReadOnlyList<long>? logitRows)
    {
        using var scope = NewDisposeScope();
        var t = ids.Length;
        var start = cache.Length;
        cache.Reserve(t);
        var x = EmbedTokens.index_select(0, tensor(ids, device: Device)).to(ScalarType.Float32); // (T, hidden)
        var (cos, sin) = Rope.Tables(start, t, Device);                                            // (T, 1, D/2)
        var mask = t == 1 ? null : CausalMask(start, t);
        foreach (var layer in Layers)
        {
            // A nested scope per layer frees each layer's activations before the next (long prompts).
            using var layerScope = NewDisposeScope();
            x = layer.Forward(x, cache, Rope, cos, sin, mask, adapter).MoveToOuterDisposeScope();
        }
        cache.Commit(t);
        var rows = logitRows is null ? x.narrow(0, t - 1, 1) : x.index_select(0, tensor(logitRows.ToArray(), device: Device));
        var logits = LmHead.Forward(Qwen3DecoderLayer.RmsNorm(rows, Norm, Config.RmsNormEps)); // (R, vocab)
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>(G·T, S) additive mask: row g·T + t sees positions ≤ start + t.</summary>
    private Tensor CausalMask(int start, int t)
    {
        var group = Config.NumAttentionHeads / Config.KeyValueHeads;
        var s = start + t;
        var mask = full(t, s, float.NegativeInfinity, ScalarType.Float32, Device).triu_(start + 1); // (T, S)
        return mask.repeat(group, 1);
    }

    /// <summary>Merges <paramref name="adapter"/> into the weights (single-adapter serving, no per-token cost).</summary>
    public void MergeAdapter(LoraAdapter adapter)
    {
        if (MergedAdapter is not null) throw new InvalidOperationException($"adapter '{MergedAdapter}' is already merged.");
        if (Quantization != WeightQuantization.None)
            throw new InvalidOperationException($"the weights are already quantized ({Quantization.Name()}); merge adapter '{adapter.Name}' into the float weights first, then quantize.");
        using var inference = no_grad();
        foreach (var (module, factors) in adapter.Modules) _linears[module].Merge(factors.A, factors.B, adapter.Scale);
        MergedAdapter = adapter.Name;
    }

    /// <summary>Attaches <paramref name="adapter"/> unmerged; forwards pick it by name.</summary>
    public void AttachAdapter(LoraAdapter adapter)
    {
        using var inference = no_grad();
        foreach (var (module, factors) in adapter.Modules) _linears[module].Attach(adapter.Name, factors.A, factors.B, adapter.Scale);
        AttachedAdapters.Add(adapter.Name);
    }

    /// <summary>
    /// Quantizes every per-layer linear weight (and the lm_head when <paramref name="lmHead"/>) to
    /// <paramref name="mode"/>, in groups of <paramref name="groupSize"/> input columns. Layers whose width does not
    /// split into groups stay dense. Merge adapters before this: merging needs the float weights.
    /// </summary>
    public void Quantize(WeightQuantization mode, int groupSize, bool lmHead = true)
    {
        if (mode == WeightQuantization.None) return;
        if (Quantization != WeightQuantization.None) throw new InvalidOperationException($"the weights are already quantized ({Quantization.Name()}).");
        if (groupSize <= 0 || groupSize % Kernels.QuantGemv.GroupMultiple != 0)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, $"the quantization group size must be a positive multiple of {Kernels.QuantGemv.GroupMultiple}.");
        foreach (var linear in _linears.Values) linear.Quantize(mode, groupSize);
        // A tied lm_head's dense weight is the embedding tensor, which stays (token lookup reads it).
        var tied = TiedLmHead;
        if (lmHead) LmHead.Quantize(mode, groupSize, ownsOld: !tied);
        if (!TiedLmHead)
        {
            // The embedding is usually a view of the memory-mapped checkpoint, which keeps the whole mapping (every
            // page quantization touched counts in RSS) alive: an own copy lets the mapping go with the float weights.
            var own = EmbedTokens.clone();
            EmbedTokens.Dispose();
            EmbedTokens = own;
        }
        Quantization = mode;
    }

    private bool TiedLmHead => LmHead.Weight is DenseWeight d && ReferenceEquals(d.Tensor, EmbedTokens);

    public void Dispose()
    {
        foreach (var layer in Layers) layer.Dispose();
        if (!TiedLmHead) LmHead.Dispose();
        EmbedTokens.Dispose();
        Norm.Dispose();
    }
}

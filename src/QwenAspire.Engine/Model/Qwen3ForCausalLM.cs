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
    private readonly TorchSharp.Scalar _eps;

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
        _eps = TorchSharp.ScalarExtensionMethods.ToScalar(config.RmsNormEps);
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
    /// <summary>Adapters attached unmerged, by slot (selected per row group in a forward).</summary>
    public Dictionary<int, string> AttachedAdapters { get; } = [];
    /// <summary>The adapter merged into the weights, if any (the base model is then no longer available).</summary>
    public string? MergedAdapter { get; private set; }
    /// <summary>What load-time calibration measured and chose for the linear paths (null: not calibrated).</summary>
    public string? LinearPolicyReport { get; init; }
    /// <summary>How the per-layer linear weights are stored (set by <see cref="Quantize"/>).</summary>
    public WeightQuantization Quantization { get; private set; }

    public static Qwen3ForCausalLM Load(string folder, ModelLoadOptions? options = null) => Qwen3Loader.Load(folder, options ?? new ModelLoadOptions());

    /// <summary>How decode rows attend (tests select the pure-torch path or the scalar reference on CPU).</summary>
    public PagedAttentionPath AttentionPath { get; set; }

    /// <summary>How steps made only of decode rows run their non-linear ops (tests select the torch ops on CPU).</summary>
    public DecodeStepPath DecodePath { get; set; }

    /// <summary>
    /// ONE forward over every row of <paramref name="step"/> (prefill chunks and decode rows of many sequences):
    /// each linear layer runs once for all rows (adapter deltas per row group), K/V go into their slots of
    /// <paramref name="cache"/>, attention reads each sequence's blocks. Returns f32 logits (R, vocab) for
    /// <see cref="StepBatch.LogitsRows"/>, in the caller's dispose scope (owned by the caller when it has none).
    /// The step's contents are trusted here (<see cref="TorchModelRunner.Execute"/> validates them).
    /// </summary>
    public Tensor Forward(StepBatch step, PagedKvCache cache)
    {
        if (step.BlockSize != cache.BlockSize)
            throw new ArgumentException($"step block size {step.BlockSize} differs from the pool's {cache.BlockSize}.", nameof(step));
        using var inference = inference_mode();
        // Few-row steps spend their time in the SIMD GEMV's own threads; libtorch's remaining ops are tiny, and
        // its OpenMP workers spinning after each parallel op would steal the cores the GEMV needs.
        var threads = get_num_threads();
        var t = step.TokenCount;
        var singleThreaded = threads > 1 && LmHead.Weight.RunsOnKernelThreads(t) && _linears.Values.All(l => l.Weight.RunsOnKernelThreads(t));
        if (singleThreaded) set_num_threads(1);
        try
        {
            return ForwardLayers(step, cache, threads);
        }
        finally
        {
            if (singleThreaded) set_num_threads(threads);
        }
    }

    private Tensor ForwardLayers(StepBatch batch, PagedKvCache cache, int threads)
    {
        using var scope = NewDisposeScope();
        if (DecodeFastPath.Accepts(batch, this, cache)) return DecodeFastPath.Forward(this, batch, cache, threads).MoveToOuterDisposeScope();
        var ids = new long[batch.TokenCount];
        for (var i = 0; i < ids.Length; i++) ids[i] = batch.TokenIds[i];
        var step = new PagedStep(batch, this, PagedAttention.KernelAccepts(cache, AttentionPath));
        var x = EmbedTokens.index_select(0, tensor(ids, device: Device)).to(ScalarType.Float32); // (N, hidden)
        foreach (var layer in Layers)
        {
            // A nested scope per layer frees each layer's activations before the next (long prompts).
            using var layerScope = NewDisposeScope();
            x = layer.Forward(x, step, cache, Rope, AttentionPath, threads).MoveToOuterDisposeScope();
        }
        var rows = x.index_select(0, tensor(batch.LogitsRows.Select(r => (long)r).ToArray(), device: Device)); // (R, hidden)
        var logits = LmHead.Forward(Qwen3DecoderLayer.RmsNorm(rows, Norm, _eps));                               // (R, vocab)
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Merges <paramref name="adapter"/> into the weights (single-adapter serving, no per-token cost).</summary>
    public void MergeAdapter(LoraAdapter adapter)
    {
        if (MergedAdapter is not null) throw new InvalidOperationException($"adapter '{MergedAdapter}' is already merged.");
        if (AttachedAdapters.Count > 0) throw new InvalidOperationException("merging would change the base under the attached adapters.");
        if (Quantization != WeightQuantization.None)
            throw new InvalidOperationException($"the weights are already quantized ({Quantization.Name()}); merge adapter '{adapter.Name}' into the float weights first, then quantize.");
        using var inference = no_grad();
        foreach (var (module, factors) in adapter.Modules) _linears[module].Merge(factors.A, factors.B, adapter.Scale);
        MergedAdapter = adapter.Name;
    }

    /// <summary>Attaches <paramref name="adapter"/> unmerged in <paramref name="slot"/>; rows of that slot get its deltas.</summary>
    /// <remarks>All or nothing: if any module refuses the factors, the slot is detached everywhere again.</remarks>
    public void AttachAdapter(LoraAdapter adapter, int slot)
    {
        if (slot <= 0) throw new ArgumentOutOfRangeException(nameof(slot), slot, "adapter slots start at 1 (0 is the base model).");
        if (AttachedAdapters.ContainsKey(slot)) throw new InvalidOperationException($"adapter slot {slot} is taken by '{AttachedAdapters[slot]}'.");
        using var inference = no_grad();
        try
        {
            foreach (var (module, factors) in adapter.Modules) _linears[module].Attach(slot, factors.A, factors.B, adapter.Scale);
        }
        catch
        {
            foreach (var linear in _linears.Values) linear.Detach(slot);
            throw;
        }
        AttachedAdapters[slot] = adapter.Name;
    }

    /// <summary>Frees the factors of the adapter in <paramref name="slot"/>.</summary>
    public void DetachAdapter(int slot)
    {
        foreach (var linear in _linears.Values) linear.Detach(slot);
        AttachedAdapters.Remove(slot);
    }

    /// <summary>
    /// Quantizes every per-layer linear weight (and the lm_head when <paramref name="lmHead"/>) to
    /// <paramref name="mode"/> (int4: <see cref="QuantizationMix"/>'s Q4_K_M-like mix), in groups of <paramref name="groupSize"/> input columns. Layers whose width does not
    /// split into groups stay dense. Merge adapters before this: merging needs the float weights. With a
    /// <paramref name="cache"/>, weights quantized before from the same content are read back instead
    /// (<see cref="QuantizationCacheReport"/> says what happened); a cache that cannot be read or written only costs time.
    /// </summary>
    public void Quantize(WeightQuantization mode, int groupSize, bool lmHead = true, QuantizationCache? cache = null)
    {
        if (mode == WeightQuantization.None) return;
        if (Quantization != WeightQuantization.None) throw new InvalidOperationException($"the weights are already quantized ({Quantization.Name()}).");
        if (groupSize <= 0 || groupSize % Kernels.QuantGemv.GroupMultiple != 0)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, $"the quantization group size must be a positive multiple of {Kernels.QuantGemv.GroupMultiple}.");
        // A tied lm_head's dense weight is the embedding tensor, which stays (token lookup reads it).
        var tied = TiedLmHead;
        var layers = Config.NumHiddenLayers;
        var targets = _linears.Select(kv => (Name: kv.Key, Linear: kv.Value, OwnsOld: true, Mode: QuantizationMix.ModeFor(kv.Key, mode, layers))).ToList();
        if (lmHead) targets.Add((Qwen3Weights.LmHead, LmHead, !tied, QuantizationMix.ModeFor(Qwen3Weights.LmHead, mode, layers)));
        targets.RemoveAll(t => t.Linear.Weight is not DenseWeight || !QuantizedWeight.Fits(t.Linear.Weight.InFeatures, groupSize));
        string? key = null;
        IReadOnlyDictionary<string, PackedWeight>? cached = null;
        if (cache is not null)
        {
            key = QuantizationCache.Key(targets.Select(t => (t.Name, ((DenseWeight)t.Linear.Weight).Tensor)), mode, groupSize);
            cached = cache.TryLoad(key);
            if (cached is not null && !targets.All(t => cached.TryGetValue(t.Name, out var p) && QuantizedWeight.Matches(p, t.Mode, groupSize, t.Linear.OutFeatures, t.Linear.InFeatures)))
            {
                foreach (var p in cached.Values) QuantizationCache.Dispose(p);
                cached = null;
            }
        }
        foreach (var (name, linear, ownsOld, format) in targets)
        {
            if (cached is not null) linear.UsePacked(cached[name], format, groupSize, ownsOld);
            else linear.Quantize(format, groupSize, ownsOld);
        }
        if (cache is not null && key is not null)
        {
            if (cached is not null) QuantizationCacheReport = $"quantized weights read from {cache.PathOf(key)}";
            else
            {
                try
                {
                    cache.Save(key, [.. targets.Select(t => (t.Name, ((QuantizedWeight)t.Linear.Weight).Parts))]);
                    QuantizationCacheReport = $"quantized weights saved to {cache.PathOf(key)} for the next start";
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    QuantizationCacheReport = $"quantized weights not cached ({cache.Directory}: {ex.Message})";
                }
            }
        }
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

    /// <summary>What <see cref="Quantize"/> did with its cache, or null (no cache, or not quantized).</summary>
    public string? QuantizationCacheReport { get; private set; }

    private bool TiedLmHead => LmHead.Weight is DenseWeight d && ReferenceEquals(d.Tensor, EmbedTokens);

    public void Dispose()
    {
        foreach (var layer in Layers) layer.Dispose();
        if (!TiedLmHead) LmHead.Dispose();
        EmbedTokens.Dispose();
        Norm.Dispose();
        _eps.Dispose();
    }
}

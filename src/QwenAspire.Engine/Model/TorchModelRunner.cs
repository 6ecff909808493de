using QwenAspire.Engine.Model.Lora;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// <see cref="IModelRunner"/> over <see cref="Qwen3ForCausalLM"/> and one <see cref="PagedKvCache"/>
/// allocated at load: each step is one batched forward. Adapters stay unmerged in slots (base and adapters
/// mixed freely in a step) unless merging a single configured adapter was asked for; then slot 0 is that
/// adapter and the base model is not served.
/// </summary>
public sealed class TorchModelRunner : IModelRunner
{
    private readonly SortedDictionary<int, string> _slots = [];
    private float[] _logits = [];
    private int _nextSlot = 1;

    private TorchModelRunner(Qwen3ForCausalLM model, PagedKvCache cache, GenerationConfig generationConfig, long kvBudget)
    {
        Model = model;
        Cache = cache;
        GenerationConfig = generationConfig;
        KvCacheBudget = kvBudget;
    }

    public Qwen3ForCausalLM Model { get; }
    public PagedKvCache Cache { get; }
    /// <summary>The model folder's generation_config.json (sampling defaults, eos ids).</summary>
    public GenerationConfig GenerationConfig { get; }
    public Qwen3Config Config => Model.Config;
    public int VocabSize => Model.Config.VocabSize;
    public int MaxContextLength => Model.Config.MaxPositionEmbeddings;
    public int KvBlockSize => Cache.BlockSize;
    public int KvBlockCount => Cache.BlockCount;
    /// <summary>The byte budget the pool was sized from (the pool itself is <see cref="PagedKvCache.Bytes"/>).</summary>
    public long KvCacheBudget { get; }
    /// <summary>One line for the start-up log: tokens, blocks, MiB, dtype.</summary>
    /// <summary>The load-time choice of linear paths for this CPU (null: not calibrated).</summary>
    public string? LinearPolicyReport => Model.LinearPolicyReport;

    /// <summary>Where the quantized weights came from or went (<see cref="Qwen3ForCausalLM.QuantizationCacheReport"/>).</summary>
    public string? QuantizationCacheReport => Model.QuantizationCacheReport;
    public string KvCacheSummary =>
        $"KV cache: {(long)Cache.SlotCount} tokens / {Cache.BlockCount} blocks of {Cache.BlockSize} fit in {Cache.Bytes / (1024.0 * 1024):0.0} MiB ({Cache.DType}; budget {KvCacheBudget / (1024.0 * 1024):0.0} MiB)";

    public IReadOnlyList<RunnerAdapter> Adapters =>
        [.. (Model.MergedAdapter is { } merged ? [new RunnerAdapter(merged, 0)] : Array.Empty<RunnerAdapter>()),
            .. _slots.Select(kv => new RunnerAdapter(kv.Value, kv.Key))];
    /// <summary>False when an adapter is merged: slot 0 is then that adapter.</summary>
    public bool ServesBaseModel => Model.MergedAdapter is null;

    /// <summary>Loads <paramref name="modelDir"/> (HF Qwen3 folder), allocates the KV pool, and loads the named PEFT adapters (name → folder).</summary>
    /// <param name="dtype"><c>auto|f32|bf16|f16</c>: storage of the linear weights (activations are f32).</param>
    /// <param name="device"><c>auto|cpu|cuda</c>.</param>
    /// <param name="progress">Loading progress (fraction, elapsed, stage); adapters report as the last stage.</param>
    /// <param name="mergeSingleAdapter">Merge when exactly one adapter is given (slot 0 is then that adapter; the base is not served).</param>
    /// <param name="kvCache">Pool size, block size and dtype; null: <see cref="KvCacheSettings.Default"/>.</param>
    /// <param name="quantizationCache">Where quantized weights are kept by content between starts; null: quantize every time.</param>
    public static TorchModelRunner Load(string modelDir, IReadOnlyDictionary<string, string>? adapters = null, string dtype = "auto",
        string device = "cpu", IProgress<ModelLoadProgress>? progress = null, bool mergeSingleAdapter = false,
        LinearPolicy? linearPolicy = null, KvCacheSettings? kvCache = null,
        Weights.WeightQuantization quantization = Weights.WeightQuantization.None, Weights.QuantizationCache? quantizationCache = null)
    {
        adapters ??= new Dictionary<string, string>();
        kvCache ??= KvCacheSettings.Default;
        // A merged adapter is folded into the float weights: quantize only after it (below).
        var mergeFirst = adapters.Count == 1 && mergeSingleAdapter;
        var model = Qwen3ForCausalLM.Load(modelDir, new ModelLoadOptions
        {
            DType = dtype,
            Device = device,
            Progress = progress,
            LinearPolicy = linearPolicy ?? LinearPolicy.Default,
            Quantization = mergeFirst ? Weights.WeightQuantization.None : quantization,
            QuantizationCache = quantizationCache,
        });
        PagedKvCache? cache = null;
        TorchModelRunner? runner = null;
        try
        {
            var generation = GenerationConfig.Load(Path.Combine(modelDir, "generation_config.json"));
            var kvDType = kvCache.ResolveDType(model.DType);
            var blocks = kvCache.Blocks(model.Config, kvDType, out var budget);
            cache = new PagedKvCache(model.Config, kvCache.BlockSize, blocks, kvDType, model.Device);
            runner = new TorchModelRunner(model, cache, generation, budget);
            foreach (var (name, folder) in adapters)
            {
                progress?.Report(new ModelLoadProgress(1.0, TimeSpan.Zero, $"adapter {name}"));
                if (adapters.Count == 1 && mergeSingleAdapter)
                {
                    using var adapter = LoraAdapter.Load(name, folder, model.Config);
                    model.MergeAdapter(adapter);
                    using (TorchSharp.torch.no_grad()) model.Quantize(quantization, ModelLoadOptions.DefaultQuantizationGroupSize, cache: quantizationCache);
                }
                else
                {
                    runner.LoadAdapter(name, folder);
                }
            }
            return runner;
        }
        catch
        {
            if (runner is not null) runner.Dispose();
            else
            {
                cache?.Dispose();
                model.Dispose();
            }
            throw;
        }
    }

    public ReadOnlySpan<float> Execute(StepBatch step)
    {
        ArgumentNullException.ThrowIfNull(step);
        Check(step);
        var vocab = VocabSize;
        var r = step.LogitsRows.Length;
        var need = (long)r * vocab;
        if (need > Array.MaxLength) throw new ArgumentException($"{r} logits rows of {vocab} exceed one buffer.", nameof(step));
        if (_logits.Length < need) _logits = new float[need];
        using var scope = NewDisposeScope();
        var logits = Model.Forward(step, Cache); // (R, vocab) f32
        if (r == 0) return [];
        var cpu = logits.device_type == TorchSharp.DeviceType.CPU ? logits : logits.cpu();
        using var accessor = cpu.contiguous().view(-1).data<float>();
        accessor.CopyTo(_logits);
        return _logits.AsSpan(0, (int)need);
    }

    /// <summary>The step's invariants plus what only the runner knows: pool size, vocabulary, context length, loaded slots.</summary>
    private void Check(StepBatch step)
    {
        step.Validate();
        if (step.BlockSize != KvBlockSize) throw new ArgumentException($"step block size {step.BlockSize} differs from the pool's {KvBlockSize}.", nameof(step));
        for (var i = 0; i < step.TokenCount; i++)
            if ((uint)step.TokenIds[i] >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(step), $"row {i}: token id {step.TokenIds[i]} is outside the vocabulary (0..{VocabSize - 1}).");
        for (var s = 0; s < step.SequenceCount; s++)
        {
            if (step.ContextLengths[s] > MaxContextLength)
                throw new ArgumentOutOfRangeException(nameof(step), $"sequence {s}: {step.ContextLengths[s]} tokens exceed the model's context length of {MaxContextLength}.");
            var blocks = (step.ContextLengths[s] + KvBlockSize - 1) / KvBlockSize;
            var table = step.BlockTables[s];
            for (var b = 0; b < blocks; b++)
                if ((uint)table[b] >= (uint)KvBlockCount)
                    throw new ArgumentOutOfRangeException(nameof(step), $"sequence {s}: block {table[b]} is outside the pool of {KvBlockCount} blocks.");
            var slot = step.AdapterSlots[s];
            if (slot != 0 && !_slots.ContainsKey(slot))
                throw new ArgumentException($"sequence {s}: adapter slot {slot} is not loaded.", nameof(step));
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The name is empty or already loaded.</exception>
    /// <exception cref="InvalidOperationException">An adapter is merged into the weights: others cannot be stacked on it.</exception>
    public int LoadAdapter(string name, string folder)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("An adapter needs a name.", nameof(name));
        if (_slots.ContainsValue(name) || Model.MergedAdapter == name) throw new ArgumentException($"adapter '{name}' is already loaded.", nameof(name));
        if (Model.MergedAdapter is { } merged)
            throw new InvalidOperationException($"adapter '{merged}' is merged into the weights; serving other adapters needs it unmerged (model.merge_single_adapter: false).");
        var slot = _nextSlot;
        try
        {
            using var adapter = LoraAdapter.Load(name, folder, Model.Config);
            Model.AttachAdapter(adapter, slot);
        }
        catch (ModelFormatException)
        {
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException or FormatException or InvalidOperationException)
        {
            // AttachAdapter leaves nothing behind on failure; say which adapter and why.
            throw new ModelFormatException(folder, $"adapter '{name}': {e.Message}", e);
        }
        _nextSlot++;
        _slots[slot] = name;
        return slot;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">No adapter is loaded in <paramref name="slot"/>.</exception>
    public void UnloadAdapter(int slot)
    {
        if (!_slots.Remove(slot)) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"no adapter is loaded in slot {slot}.");
        Model.DetachAdapter(slot);
    }

    public void Dispose()
    {
        Cache.Dispose();
        Model.Dispose();
    }
}

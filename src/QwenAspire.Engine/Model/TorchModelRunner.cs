using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model.Lora;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// <see cref="IModelRunner"/> over <see cref="Qwen3ForCausalLM"/>: one KV cache per sequence id. With exactly
/// one adapter configured it is merged into the weights (no per-token cost) and only that adapter is served;
/// with several they stay unmerged and each sequence's adapter is applied in its own forward.
/// </summary>
public sealed class TorchModelRunner : IModelRunner
{
    private readonly string[] _adapters;

    private TorchModelRunner(Qwen3ForCausalLM model, GenerationConfig generationConfig, string[] adapters)
    {
        Model = model;
        GenerationConfig = generationConfig;
        _adapters = adapters;
    }

    public Qwen3ForCausalLM Model { get; }
    /// <summary>The model folder's generation_config.json (sampling defaults, eos ids).</summary>
    public GenerationConfig GenerationConfig { get; }
    public Qwen3Config Config => Model.Config;
    public int VocabSize => Model.Config.VocabSize;
    public int MaxContextLength => Model.Config.MaxPositionEmbeddings;
    public IReadOnlyCollection<string> AdapterNames => _adapters;
    // TEMPORARY (replaced by the paged runner on the model branch): the old per-sequence path below.
    public int KvBlockSize => 16;
    public int KvBlockCount => 0;
    public IReadOnlyList<RunnerAdapter> Adapters => [];
    public ReadOnlySpan<float> Execute(StepBatch step) => throw new NotSupportedException("paged runner pending");
    public int LoadAdapter(string name, string folder) => throw new NotSupportedException("paged runner pending");
    public void UnloadAdapter(int slot) => throw new NotSupportedException("paged runner pending");
    /// <summary>False when an adapter is merged: requests without an adapter are then refused, not served the adapter.</summary>
    public bool ServesBaseModel => Model.MergedAdapter is null;

    /// <summary>
    /// Loads <paramref name="modelDir"/> (HF Qwen3 folder) and the named PEFT adapters (name → folder).
    /// </summary>
    /// <param name="dtype"><c>auto|f32|bf16|f16</c>: storage of the linear weights (activations are f32).</param>
    /// <param name="device"><c>auto|cpu|cuda</c>.</param>
    /// <param name="progress">Loading progress (fraction, elapsed, stage); adapters report as the last stage.</param>
    /// <param name="mergeSingleAdapter">Merge when exactly one adapter is given (default); false keeps it unmerged.</param>
    public static TorchModelRunner Load(string modelDir, IReadOnlyDictionary<string, string>? adapters = null, string dtype = "auto",
        string device = "cpu", IProgress<ModelLoadProgress>? progress = null, bool mergeSingleAdapter = true,
        LinearPolicy? linearPolicy = null)
    {
        adapters ??= new Dictionary<string, string>();
        var model = Qwen3ForCausalLM.Load(modelDir, new ModelLoadOptions
        {
            DType = dtype,
            Device = device,
            Progress = progress,
            LinearPolicy = linearPolicy ?? LinearPolicy.Default,
        });
        try
        {
            foreach (var (name, folder) in adapters)
            {
                progress?.Report(new ModelLoadProgress(1.0, TimeSpan.Zero, $"adapter {name}"));
                using var adapter = LoraAdapter.Load(name, folder, model.Config);
                if (adapters.Count == 1 && mergeSingleAdapter) model.MergeAdapter(adapter);
                else model.AttachAdapter(adapter);
            }
            var generation = GenerationConfig.Load(Path.Combine(modelDir, "generation_config.json"));
            return new TorchModelRunner(model, generation, [.. adapters.Keys]);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
    }
}

using System.Diagnostics;
using QwenAspire.Engine.Model.SafeTensors;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// Builds a <see cref="Qwen3ForCausalLM"/> from an HF folder: validates config.json, checks the checkpoint's
/// tensor names and shapes against <see cref="Qwen3Weights.Expected"/>, then takes each tensor by name.
/// Tensors already in the target dtype stay zero-copy views of the memory-mapped file.
/// </summary>
internal static class Qwen3Loader
{
    public const string ConfigFileName = "config.json";

    public static Qwen3ForCausalLM Load(string folder, ModelLoadOptions options)
    {
        var clock = Stopwatch.StartNew();
        if (!Directory.Exists(folder)) throw new ModelFormatException(folder, "model folder not found.");
        var config = Qwen3Config.Load(Path.Combine(folder, ConfigFileName));
        var dtype = ModelDTypes.Parse(options.DType, config);
        var device = TorchRuntime.ResolveDevice(options.Device);
        using var checkpoint = SafeTensorsCheckpoint.Open(folder);
        var expected = Qwen3Weights.Expected(config);
        Validate(folder, config, checkpoint, expected);

        var totalBytes = Math.Max(1, expected.Sum(e => checkpoint.Info(e.Name).End - checkpoint.Info(e.Name).Begin));
        long doneBytes = 0;
        var loaded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using (no_grad())
            {
                foreach (var (name, shape) in expected)
                {
                    var info = checkpoint.Info(name);
                    options.Progress?.Report(new ModelLoadProgress((double)doneBytes / totalBytes, clock.Elapsed, name));
                    loaded[name] = Convert(checkpoint.Get(name), shape.Length == 1 ? ScalarType.Float32 : dtype.ToScalarType(), device);
                    doneBytes += info.End - info.Begin;
                }
            }
            Tensor Take(string name) => loaded.Remove(name, out var t) ? t : throw new InvalidOperationException($"tensor '{name}' taken twice.");
            var embed = Take(Qwen3Weights.EmbedTokens);
            var norm = Take(Qwen3Weights.FinalNorm);
            var lmHead = config.TieWordEmbeddings ? null : Take(Qwen3Weights.LmHead);
            var policy = options.LinearPolicy;
            string? policyReport = null;
            if (options.CalibrateLinearPolicy && options.Quantization == WeightQuantization.None
                && loaded.TryGetValue(Qwen3Weights.Layer(0, "mlp.up_proj.weight"), out var sample))
            {
                options.Progress?.Report(new ModelLoadProgress(1.0, clock.Elapsed, "timing the linear paths"));
                policy = LinearPolicyCalibration.Calibrate(sample, policy, out policyReport);
            }
            var model = new Qwen3ForCausalLM(config, dtype, device, embed, norm, lmHead, Take, policy) { LinearPolicyReport = policyReport };
            if (options.Quantization != WeightQuantization.None)
            {
                options.Progress?.Report(new ModelLoadProgress(1.0, clock.Elapsed, $"quantizing to {options.Quantization.Name()}"));
                try
                {
                    using (no_grad()) model.Quantize(options.Quantization, options.QuantizationGroupSize, options.QuantizeLmHead, options.QuantizationCache);
                }
                catch
                {
                    model.Dispose();
                    throw;
                }
            }
            options.Progress?.Report(new ModelLoadProgress(1.0, clock.Elapsed, "done"));
            return model;
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    private static Tensor Convert(Tensor source, ScalarType dtype, Device device)
    {
        if (source.dtype == dtype && source.device == device) return source;
        var converted = source.to(dtype, device).contiguous();
        source.Dispose();
        return converted;
    }

    private static void Validate(string folder, Qwen3Config config, SafeTensorsCheckpoint checkpoint, IReadOnlyList<(string Name, long[] Shape)> expected)
    {
        var names = checkpoint.Names.ToHashSet(StringComparer.Ordinal);
        var where = checkpoint.Files.Count == 1 ? checkpoint.Files[0].Path : Path.Combine(folder, SafeTensorsCheckpoint.IndexFileName);
        var missing = expected.Where(e => !names.Contains(e.Name)).Select(e => e.Name).ToList();
        if (missing.Count > 0)
            throw new ModelFormatException(where, $"{missing.Count} tensor(s) missing, e.g. {string.Join(", ", missing.Take(5).Select(n => $"'{n}'"))}"
                + (missing.Contains(Qwen3Weights.LmHead) ? " (config.json says tie_word_embeddings: false, so lm_head.weight is required)." : "."));
        var known = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        // A tied checkpoint may still carry lm_head.weight; HF ignores it in favour of the embedding.
        if (config.TieWordEmbeddings) known.Add(Qwen3Weights.LmHead);
        var extra = names.Where(n => !known.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
            throw new ModelFormatException(where, $"{extra.Count} unexpected tensor(s) for a Qwen3 model with {config.NumHiddenLayers} layers, e.g. {string.Join(", ", extra.Take(5).Select(n => $"'{n}'"))}.");
        foreach (var (name, shape) in expected)
        {
            var actual = checkpoint.Info(name).Shape;
            if (!actual.SequenceEqual(shape))
                throw new ModelFormatException(checkpoint.PathOf(name),
                    $"tensor '{name}' has shape [{string.Join(", ", actual)}] but config.json implies [{string.Join(", ", shape)}].");
        }
    }
}

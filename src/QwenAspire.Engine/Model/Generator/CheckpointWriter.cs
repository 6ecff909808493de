using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.SafeTensors;
using QwenAspire.Text.Assets;

namespace QwenAspire.Engine.Model.Generator;

/// <summary>A written safetensors file with the fixture's content sha256 (tensor bytes in ordinal name order).</summary>
public sealed record GeneratedFile(string Path, string ContentSha256, IReadOnlyDictionary<string, string> TensorSha256);

/// <summary>
/// Writes random-weight Qwen3 Hugging Face folders from the portable weight recipe (<see cref="WeightRecipe"/>):
/// config, generation config, the real tokenizer files and the safetensors. The server needs it for its demo
/// model (<see cref="DemoModel"/>); the fixture, bench presets and adapters build on it in QwenAspire.Testing.
/// </summary>
public static class CheckpointWriter
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>
    /// A whole model folder: <paramref name="config"/> as config.json, Qwen3's generation config and tokenizer,
    /// and every tensor of the config filled from its seed string (<paramref name="seedPrefix"/> + name; the
    /// untied lm_head uses <paramref name="lmHeadSeedPrefix"/>).
    /// </summary>
    public static GeneratedFile WriteModel(string outDir, JsonObject config, SafeTensorDType dtype, string seedPrefix, string lmHeadSeedPrefix,
        Func<string, double> matrixStd, IProgress<double>? progress = null)
    {
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "config.json"), config.ToJsonString(s_json) + "\n");
        File.WriteAllText(Path.Combine(outDir, "generation_config.json"), GenerationConfig().ToJsonString(s_json) + "\n");
        Qwen3Assets.CopyTo(outDir);
        var parsed = JsonSerializer.Deserialize<Qwen3Config>(config.ToJsonString())!;
        var tensors = Qwen3Weights.Expected(parsed).Select(e =>
        {
            var seedString = (e.Name == Qwen3Weights.LmHead ? lmHeadSeedPrefix : seedPrefix) + e.Name;
            return (e.Name, e.Shape, RecipeFill(seedString, e.Shape.Length == 1 ? null : matrixStd(e.Name)));
        }).ToList();
        return WriteTensors(Path.Combine(outDir, SafeTensorsCheckpoint.SingleFileName), tensors, dtype, progress);
    }

    /// <summary>config.json with the keys and order transformers 4.51 writes for Qwen3.</summary>
    public static JsonObject HfConfig(int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim, int maxPositions,
        bool tied, string dtype, int maxWindowLayers) => new()
        {
            ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
            ["attention_bias"] = false,
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = 151643,
            ["eos_token_id"] = 151645,
            ["head_dim"] = headDim,
            ["hidden_act"] = "silu",
            ["hidden_size"] = hidden,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = intermediate,
            ["max_position_embeddings"] = maxPositions,
            ["max_window_layers"] = maxWindowLayers,
            ["model_type"] = "qwen3",
            ["num_attention_heads"] = heads,
            ["num_hidden_layers"] = layers,
            ["num_key_value_heads"] = kvHeads,
            ["rms_norm_eps"] = 1e-06,
            ["rope_scaling"] = null,
            ["rope_theta"] = 1000000,
            ["sliding_window"] = null,
            ["tie_word_embeddings"] = tied,
            ["torch_dtype"] = dtype,
            ["transformers_version"] = "4.51.0",
            ["use_cache"] = true,
            ["use_sliding_window"] = false,
            ["vocab_size"] = 151936,
        };

    /// <summary>generation_config.json as Qwen3 ships it (and the fixture copies).</summary>
    public static JsonObject GenerationConfig() => new()
    {
        ["bos_token_id"] = 151643,
        ["do_sample"] = true,
        ["eos_token_id"] = new JsonArray(151645, 151643),
        ["pad_token_id"] = 151643,
        ["temperature"] = 0.6,
        ["top_k"] = 20,
        ["top_p"] = 0.95,
        ["transformers_version"] = "4.51.0",
    };

    /// <summary>The recipe's values for a tensor: a matrix of standard deviation <paramref name="std"/>, or a norm weight when null.</summary>
    public static Action<Span<float>> RecipeFill(string seedString, double? std) => values =>
    {
        if (std is { } s) WeightRecipe.FillMatrix(seedString, s, values);
        else WeightRecipe.FillNorm(seedString, values);
    };

    /// <summary>Writes <paramref name="tensors"/> (values produced on demand by each Fill) and hashes them as written.</summary>
    public static GeneratedFile WriteTensors(string path, List<(string Name, long[] Shape, Action<Span<float>> Fill)> tensors,
        SafeTensorDType dtype, IProgress<double>? progress)
    {
        using var content = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var perTensor = new Dictionary<string, string>(StringComparer.Ordinal);
        var total = (double)tensors.Sum(t => t.Shape.Aggregate(1L, (x, y) => x * y));
        double done = 0;
        var toWrite = tensors.Select(t => new SafeTensorToWrite(t.Name, dtype, t.Shape, stream =>
        {
            var count = t.Shape.Aggregate(1L, (x, y) => x * y);
            var values = new float[count];
            t.Fill(values);
            byte[] bytes;
            if (dtype == SafeTensorDType.F32)
            {
                bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            }
            else if (dtype == SafeTensorDType.BF16)
            {
                var halves = new ushort[count];
                WeightRecipe.ToBFloat16(values, halves);
                bytes = MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
            }
            else
            {
                throw new NotSupportedException("the generator writes F32 or BF16.");
            }
            // The writer emits tensors in ordinal name order, so appending here yields the content hash.
            content.AppendData(bytes);
            perTensor[t.Name] = Convert.ToHexStringLower(SHA256.HashData(bytes));
            stream.Write(bytes);
            done += count;
            progress?.Report(done / total);
        })).ToList();
        SafeTensorsWriter.Write(path, toWrite);
        return new GeneratedFile(path, Convert.ToHexStringLower(content.GetHashAndReset()), perTensor);
    }
}

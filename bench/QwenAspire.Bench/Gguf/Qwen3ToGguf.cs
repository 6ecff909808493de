using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.Bench.Gguf;

/// <summary>
/// Converts a Qwen3 HF folder (single model.safetensors, config.json, tokenizer files) to a GGUF that
/// llama.cpp loads as arch "qwen3", with the tensor names and keys of llama.cpp's convert_hf_to_gguf.py:
/// 2-D weights in the requested type, 1-D norm weights always F32 (as the converter keeps them), no
/// q/k permutation (Qwen uses NEOX rope), and "output.weight" only for untied checkpoints.
/// </summary>
internal static class Qwen3ToGguf
{
    public static void Convert(string modelDir, string outPath, GgmlType matrixType, Action<string>? log = null)
    {
        if (matrixType is not (GgmlType.BF16 or GgmlType.F32)) throw new ArgumentException("the writer emits BF16 or F32 matrices.");
        var config = JsonNode.Parse(File.ReadAllText(RequireFile(modelDir, "config.json"))) as JsonObject
                     ?? throw new InvalidDataException($"{modelDir}: config.json is not a JSON object.");
        int Int(string key) => config[key] is JsonValue v && v.TryGetValue<int>(out int i) ? i
            : throw new InvalidDataException($"{modelDir}: config.json lacks integer '{key}'.");
        double Number(string key, double fallback) => config[key] is JsonValue v ? v.GetValue<double>() : fallback;
        if ((string?)config["model_type"] != "qwen3")
            throw new InvalidDataException($"{modelDir}: config.json model_type is '{(string?)config["model_type"]}', expected qwen3.");

        int hidden = Int("hidden_size"), heads = Int("num_attention_heads"), layers = Int("num_hidden_layers"), vocab = Int("vocab_size");
        int headDim = config["head_dim"] is null ? hidden / heads : Int("head_dim");
        var header = SafeTensorsHeader.Read(RequireFile(modelDir, SafeTensorsCheckpoint.SingleFileName));

        var gguf = new GgufWriter();
        gguf.Add("general.architecture", "qwen3");
        gguf.Add("general.type", "model");
        gguf.Add("general.name", Path.GetFileName(Path.GetFullPath(modelDir).TrimEnd('/')));
        gguf.Add("general.file_type", matrixType == GgmlType.BF16 ? 32u : 0u);   // LLAMA_FTYPE_MOSTLY_BF16 / ALL_F32
        gguf.Add("general.quantization_version", 2u);
        gguf.Add("qwen3.block_count", (uint)layers);
        gguf.Add("qwen3.context_length", (uint)Int("max_position_embeddings"));
        gguf.Add("qwen3.embedding_length", (uint)hidden);
        gguf.Add("qwen3.feed_forward_length", (uint)Int("intermediate_size"));
        gguf.Add("qwen3.attention.head_count", (uint)heads);
        gguf.Add("qwen3.attention.head_count_kv", (uint)Int("num_key_value_heads"));
        gguf.Add("qwen3.rope.freq_base", (float)Number("rope_theta", 1_000_000));
        gguf.Add("qwen3.attention.layer_norm_rms_epsilon", (float)Number("rms_norm_eps", 1e-6));
        gguf.Add("qwen3.attention.key_length", (uint)headDim);
        gguf.Add("qwen3.attention.value_length", (uint)headDim);
        GgufVocab.AddTo(gguf, modelDir, vocab, config["bos_token_id"] is JsonValue b ? b.GetValue<int>() : null);

        bool tied = (bool?)config["tie_word_embeddings"] ?? false;
        var tensors = new List<GgufTensor>();
        foreach (var hf in Order(header.Tensors.Keys))
        {
            if (hf == "lm_head.weight" && tied) continue;   // llama.cpp reuses token_embd when output is absent
            var info = header.Tensors[hf];
            var type = info.Shape.Length == 1 ? GgmlType.F32 : matrixType;
            tensors.Add(new GgufTensor(GgufName(hf), [.. info.Shape.Reverse()], type, s => CopyConverted(header, info, type, s)));
        }
        if (!tied && !header.Tensors.ContainsKey("lm_head.weight"))
            throw new InvalidDataException($"{modelDir}: tie_word_embeddings is false but model.safetensors has no lm_head.weight.");
        int done = 0;
        gguf.Write(outPath, tensors, t =>
        {
            if (++done % 25 == 0 || done == tensors.Count) log?.Invoke($"  {done}/{tensors.Count} tensors");
        });
    }

    /// <summary>token_embd first, then layer by layer, then the output norm and head (the converter's order).</summary>
    private static IEnumerable<string> Order(IEnumerable<string> names)
    {
        static int Rank(string n) => n switch
        {
            "model.embed_tokens.weight" => -1,
            "model.norm.weight" => int.MaxValue - 1,
            "lm_head.weight" => int.MaxValue,
            _ when n.StartsWith("model.layers.", StringComparison.Ordinal) => int.Parse(n.Split('.')[2], CultureInfo.InvariantCulture),
            _ => int.MaxValue,
        };
        return names.OrderBy(Rank).ThenBy(n => n, StringComparer.Ordinal);
    }

    /// <summary>The llama.cpp name of an HF Qwen3 tensor; an unknown name is an error, not a silent skip.</summary>
    public static string GgufName(string hf)
    {
        switch (hf)
        {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return "output.weight";
        }
        var parts = hf.Split('.');
        if (parts.Length >= 5 && parts[0] == "model" && parts[1] == "layers" && int.TryParse(parts[2], CultureInfo.InvariantCulture, out int l))
        {
            string rest = string.Join('.', parts[3..]);
            string? name = rest switch
            {
                "input_layernorm.weight" => "attn_norm",
                "post_attention_layernorm.weight" => "ffn_norm",
                "self_attn.q_proj.weight" => "attn_q",
                "self_attn.k_proj.weight" => "attn_k",
                "self_attn.v_proj.weight" => "attn_v",
                "self_attn.o_proj.weight" => "attn_output",
                "self_attn.q_norm.weight" => "attn_q_norm",
                "self_attn.k_norm.weight" => "attn_k_norm",
                "mlp.gate_proj.weight" => "ffn_gate",
                "mlp.up_proj.weight" => "ffn_up",
                "mlp.down_proj.weight" => "ffn_down",
                _ => null,
            };
            if (name is not null) return $"blk.{l}.{name}.weight";
        }
        throw new InvalidDataException($"tensor '{hf}' has no qwen3 GGUF name (attention biases or extra heads are not supported).");
    }

    /// <summary>Streams one tensor from the safetensors file, converting in chunks so a 600 MB embedding needs no 600 MB buffer.</summary>
    internal static void CopyConverted(SafeTensorsHeader header, SafeTensorInfo info, GgmlType target, Stream output)
    {
        const int ChunkElements = 1 << 22;
        using var input = new FileStream(header.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        input.Position = header.DataStart + info.Begin;
        int inSize = info.DType.ElementSize(), outSize = target == GgmlType.F32 ? 4 : 2;
        var inBuf = new byte[ChunkElements * inSize];
        var outBuf = new byte[ChunkElements * outSize];
        for (long left = info.ElementCount; left > 0;)
        {
            int n = (int)Math.Min(left, ChunkElements);
            input.ReadExactly(inBuf, 0, n * inSize);
            for (int i = 0; i < n; i++)
            {
                float value = info.DType switch
                {
                    SafeTensorDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(inBuf.AsSpan(i * 4)),
                    SafeTensorDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(inBuf.AsSpan(i * 2)) << 16),
                    _ => (float)BinaryPrimitives.ReadHalfLittleEndian(inBuf.AsSpan(i * 2)),
                };
                if (target == GgmlType.F32) BinaryPrimitives.WriteSingleLittleEndian(outBuf.AsSpan(i * 4), value);
                else BinaryPrimitives.WriteUInt16LittleEndian(outBuf.AsSpan(i * 2), ToBFloat16(value));
            }
            output.Write(outBuf, 0, n * outSize);
            left -= n;
        }
    }

    /// <summary>Round to nearest, ties to even (exact for values that came from bf16); NaN stays NaN.</summary>
    private static ushort ToBFloat16(float value)
    {
        uint x = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((x >> 16) | 0x40);
        return (ushort)((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
    }

    private static string RequireFile(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        return File.Exists(path) ? path : throw new InvalidDataException($"{dir}: {name} is missing.");
    }
}

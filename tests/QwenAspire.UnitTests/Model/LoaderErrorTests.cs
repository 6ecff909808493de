using System.Text;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.UnitTests.Model;

/// <summary>Broken checkpoints are refused with the file and the field or tensor at fault.</summary>
[Collection(TinyModelsCollection.Name)]
public sealed class LoaderErrorTests(TinyModels models)
{
    [Fact]
    public void TruncatedFileNamesTheTensorPastTheEnd()
    {
        var folder = models.CopyOf(models.Base, "truncated");
        var file = Path.Combine(folder, "model.safetensors");
        using (var stream = new FileStream(file, FileMode.Open)) stream.SetLength(stream.Length - 1000);
        var e = Assert.Throws<ModelFormatException>(() => Qwen3ForCausalLM.Load(folder));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Matches("tensor '[^']+' data_offsets end at [0-9]+ but the data section has only", e.Message);
    }

    [Fact]
    public void BadHeaderJsonIsReportedAsSuch()
    {
        var folder = models.CopyOf(models.Base, "badjson");
        var file = Path.Combine(folder, "model.safetensors");
        using (var stream = new FileStream(file, FileMode.Open)) { stream.Position = 9; stream.WriteByte((byte)'#'); }
        var e = Assert.Throws<ModelFormatException>(() => Qwen3ForCausalLM.Load(folder));
        Assert.Contains("bad safetensors header JSON", e.Message);
        Assert.Equal(file, e.FilePath);
    }

    [Fact]
    public void HeaderLengthBeyondTheFileIsRefused()
    {
        var folder = models.Scratch("hugeheader");
        var file = Path.Combine(folder, "x.safetensors");
        File.WriteAllBytes(file, [.. BitConverter.GetBytes(1_000_000UL), .. "{}"u8.ToArray()]);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorsHeader.Read(file));
        Assert.Contains("header length 1000000", e.Message);
    }

    [Fact]
    public void UnknownDTypeNamesTheTensorAndField()
    {
        var file = Path.Combine(models.Scratch("dtype"), "x.safetensors");
        WriteRaw(file, """{"w":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}""", 4);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorsHeader.Read(file));
        Assert.Contains("tensor 'w': field 'dtype' is 'I8'", e.Message);
    }

    [Fact]
    public void OffsetsThatDisagreeWithTheShapeAreRefused()
    {
        var file = Path.Combine(models.Scratch("offsets"), "x.safetensors");
        WriteRaw(file, """{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", 24);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorsHeader.Read(file));
        Assert.Contains("tensor 'w': data_offsets span 20 bytes", e.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        var folder = RewriteCheckpoint("missing", (name, shape) => name == "model.layers.1.mlp.up_proj.weight" ? null : shape);
        var e = Assert.Throws<ModelFormatException>(() => Qwen3ForCausalLM.Load(folder));
        Assert.Contains("missing", e.Message);
        Assert.Contains("'model.layers.1.mlp.up_proj.weight'", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesTensorAndBothShapes()
    {
        var folder = RewriteCheckpoint("shape", (name, shape) => name == "model.layers.0.self_attn.k_proj.weight" ? [32, 64] : shape);
        var e = Assert.Throws<ModelFormatException>(() => Qwen3ForCausalLM.Load(folder));
        Assert.Contains("'model.layers.0.self_attn.k_proj.weight' has shape [32, 64] but config.json implies [64, 64]", e.Message);
    }

    [Fact]
    public void ExtraTensorIsRefused()
    {
        var folder = RewriteCheckpoint("extra", (_, shape) => shape, extra: "model.layers.2.mlp.up_proj.weight");
        var e = Assert.Throws<ModelFormatException>(() => Qwen3ForCausalLM.Load(folder));
        Assert.Contains("unexpected tensor(s)", e.Message);
        Assert.Contains("'model.layers.2.mlp.up_proj.weight'", e.Message);
    }

    [Theory]
    [InlineData("model_type", "llama", "field 'model_type' is 'llama'")]
    [InlineData("architectures", "[\"Qwen2ForCausalLM\"]", "field 'architectures' is [Qwen2ForCausalLM]")]
    [InlineData("num_key_value_heads", "3", "not a multiple of 'num_key_value_heads'")]
    public void UnsupportedConfigIsRefusedNamingTheField(string field, string value, string expected)
    {
        var folder = models.CopyOf(models.Base, "config");
        var path = Path.Combine(folder, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json[field] = value.StartsWith('[') || char.IsDigit(value[0]) ? JsonNode.Parse(value) : value;
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => Qwen3ForCausalLM.Load(folder));
        Assert.Contains(expected, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void ShardedCheckpointLoadsLikeTheSingleFile()
    {
        var folder = models.Scratch("sharded");
        foreach (var file in new[] { "config.json", "generation_config.json" }) File.Copy(Path.Combine(models.Base, file), Path.Combine(folder, file));
        using var source = SafeTensorsFile.Open(Path.Combine(models.Base, "model.safetensors"));
        var names = source.Tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var map = new JsonObject();
        for (var shard = 0; shard < 2; shard++)
        {
            var shardName = $"model-0000{shard + 1}-of-00002.safetensors";
            var part = names.Where((_, i) => i % 2 == shard).ToList();
            SafeTensorsWriter.Write(Path.Combine(folder, shardName), part.Select(n => Copy(source, n)));
            foreach (var n in part) map[n] = shardName;
        }
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());

        using var single = Qwen3ForCausalLM.Load(models.Base);
        using var sharded = Qwen3ForCausalLM.Load(folder);
        int[] prompt = [9707, 11, 847, 5562, 374, 18838];
        using var c1 = new PagedKvCache(single.Config, 16, 4, TorchSharp.torch.ScalarType.Float32, single.Device);
        using var c2 = new PagedKvCache(sharded.Config, 16, 4, TorchSharp.torch.ScalarType.Float32, sharded.Device);
        var pool = new PagedSequences(16, 4);
        using var a = single.Forward(pool.Step(pool.Add(), prompt), c1);
        using var b = sharded.Forward(pool.Step(pool.Add(), prompt), c2);
        Assert.True(a.eq(b).all().item<bool>());
    }

    private static SafeTensorToWrite Copy(SafeTensorsFile source, string name, long[]? shape = null)
    {
        var info = source.Tensors[name];
        using var t = source.Get(name);
        var bytes = t.contiguous().bytes.ToArray();
        shape ??= info.Shape;
        var count = shape.Aggregate(1L, (x, y) => x * y) * info.DType.ElementSize();
        var data = new byte[count];
        Array.Copy(bytes, data, Math.Min(bytes.Length, data.Length));
        return new SafeTensorToWrite(name, info.DType, shape, s => s.Write(data));
    }

    private string RewriteCheckpoint(string label, Func<string, long[], long[]?> reshape, string? extra = null)
    {
        var folder = models.CopyOf(models.Base, label);
        var file = Path.Combine(folder, "model.safetensors");
        List<SafeTensorToWrite> tensors;
        using (var source = SafeTensorsFile.Open(Path.Combine(models.Base, "model.safetensors")))
        {
            tensors = [.. source.Tensors.Keys.Select(n => (n, reshape(n, source.Tensors[n].Shape))).Where(x => x.Item2 is not null)
                .Select(x => Copy(source, x.n, x.Item2))];
            if (extra is not null) tensors.Add(Copy(source, "model.layers.1.mlp.up_proj.weight") with { Name = extra });
        }
        SafeTensorsWriter.Write(file, tensors);
        return folder;
    }

    private static void WriteRaw(string file, string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(file, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. new byte[dataBytes]]);
    }
}

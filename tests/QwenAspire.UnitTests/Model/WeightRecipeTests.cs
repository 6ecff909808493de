using System.Security.Cryptography;
using System.Text.Json;
using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.UnitTests.Model;

[Collection(TinyModelsCollection.Name)]
public sealed class WeightRecipeTests(TinyModels models)
{
    [Theory]
    [InlineData("", 0xcbf29ce484222325UL)]
    [InlineData("a", 0xaf63dc4c8601ec8cUL)]
    [InlineData("tiny-qwen3/model.embed_tokens.weight", 0xd7babbcd41b4a59cUL)]
    [InlineData("tiny-qwen3/model.norm.weight", 0x68246279bf044546UL)]
    [InlineData("tiny-qwen3-untied/lm_head.weight", 0xc7a22e9d307f2ac1UL)]
    [InlineData("lora-all/base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", 0x68369582cb95f1faUL)]
    public void Fnv1aMatchesTheReadmeVectors(string seedString, ulong expected) =>
        Assert.Equal(expected, WeightRecipe.Fnv1a64(seedString));

    [Fact]
    public void SplitMixFromStateZeroMatchesTheReadmeVector()
    {
        ulong state = 0;
        Assert.Equal(0xe220a8397b1dcdafUL, WeightRecipe.SplitMix64Next(ref state));
    }

    [Fact]
    public void EveryTensorVectorInHashesJsonIsReproduced()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Golden.Dir, "golden", "hashes.json")));
        var checkedCount = 0;
        foreach (var entry in doc.RootElement.GetProperty("tensors").EnumerateObject())
        {
            var seedString = entry.Name;
            var v = entry.Value;
            Assert.Equal(Convert.ToUInt64(v.GetProperty("seed_fnv1a64").GetString(), 16), WeightRecipe.Fnv1a64(seedString));
            var state = WeightRecipe.Fnv1a64(seedString);
            foreach (var first in v.GetProperty("first_splitmix64").EnumerateArray())
                Assert.Equal(Convert.ToUInt64(first.GetString(), 16), WeightRecipe.SplitMix64Next(ref state));
            var values = new float[3];
            if (v.GetProperty("kind").GetString()!.StartsWith("norm", StringComparison.Ordinal)) WeightRecipe.FillNorm(seedString, values);
            else WeightRecipe.FillMatrix(seedString, v.GetProperty("std").GetDouble(), values);
            var bits = v.GetProperty("first_values_f32_bits").EnumerateArray().Select(b => Convert.ToUInt32(b.GetString(), 16)).ToArray();
            Assert.Equal(bits, values.Select(BitConverter.SingleToUInt32Bits).ToArray());
            checkedCount++;
        }
        Assert.True(checkedCount >= 60, $"only {checkedCount} tensor vectors found");
    }

    [Theory]
    [InlineData("model/model.safetensors")]
    [InlineData("model-untied/model.safetensors")]
    [InlineData("model-bf16/model.safetensors")]
    [InlineData("lora-all/adapter_model.safetensors")]
    [InlineData("lora-rs/adapter_model.safetensors")]
    public void GeneratedFileContentHashEqualsTheFixture(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Golden.Dir, "golden", "hashes.json")));
        var expected = doc.RootElement.GetProperty("files").GetProperty(file);
        var generated = models.Files[file];
        var wrongTensors = expected.GetProperty("tensor_sha256").EnumerateObject()
            .Where(t => !generated.TensorSha256.TryGetValue(t.Name, out var h) || h != t.Value.GetString())
            .Select(t => t.Name).ToList();
        Assert.True(wrongTensors.Count == 0, $"tensors differing from the fixture: {string.Join(", ", wrongTensors)}");
        Assert.Equal(expected.GetProperty("n_tensors").GetInt32(), generated.TensorSha256.Count);
        Assert.Equal(expected.GetProperty("content_sha256").GetString(), generated.ContentSha256);

        // The writer lays tensors out in ordinal order with no gaps, so the data section hashes the same.
        using var stream = File.OpenRead(generated.Path);
        var lengthBytes = new byte[8];
        stream.ReadExactly(lengthBytes);
        stream.Position = 8 + (long)BitConverter.ToUInt64(lengthBytes);
        Assert.Equal(generated.ContentSha256, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }
}

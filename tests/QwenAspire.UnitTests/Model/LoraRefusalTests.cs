using System.Text.Json.Nodes;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Lora;
using QwenAspire.Engine.Model.SafeTensors;

namespace QwenAspire.UnitTests.Model;

/// <summary>Adapters the engine cannot apply exactly are refused, naming the adapter file and the key.</summary>
[Collection(TinyModelsCollection.Name)]
public sealed class LoraRefusalTests(TinyModels models)
{
    private Qwen3Config BaseConfig => Qwen3Config.Load(Path.Combine(models.Base, "config.json"));

    [Theory]
    [InlineData("target_modules", "[\"q_proj\",\"qkv_proj\"]", "entry 'qkv_proj' matches no module")]
    [InlineData("target_modules", "\".*\\\\.attn\\\\.c_attn\"", "matches no module")]
    [InlineData("target_modules", "[\"lm_head\"]", "selects 'lm_head'")]
    [InlineData("bias", "\"all\"", "field 'bias' is 'all'")]
    [InlineData("bias", "\"lora_only\"", "field 'bias' is 'lora_only'")]
    [InlineData("modules_to_save", "[\"lm_head\"]", "field 'modules_to_save'")]
    [InlineData("use_dora", "true", "field 'use_dora' is true")]
    [InlineData("rank_pattern", "{\"q_proj\": 8}", "field 'rank_pattern'")]
    [InlineData("peft_type", "\"IA3\"", "field 'peft_type' is 'IA3'")]
    public void UnsupportedAdapterConfigIsRefused(string field, string json, string expected)
    {
        var folder = models.CopyOf(models.LoraAll, "lora-config");
        var path = Path.Combine(folder, LoraAdapter.ConfigFileName);
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        config[field] = JsonNode.Parse(json);
        File.WriteAllText(path, config.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => LoraAdapter.Load("x", folder, BaseConfig));
        Assert.Contains(expected, e.Message);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void RegexTargetModulesUseFullMatchSemantics()
    {
        var folder = models.CopyOf(models.LoraRs, "lora-regex");
        var path = Path.Combine(folder, LoraAdapter.ConfigFileName);
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        // Same modules as ["q_proj","v_proj","down_proj"]; a partial match such as "q_proj" alone must not match.
        config["target_modules"] = @"model\.layers\.\d+\.(self_attn\.(q|v)_proj|mlp\.down_proj)";
        File.WriteAllText(path, config.ToJsonString());
        using var adapter = LoraAdapter.Load("rs", folder, BaseConfig);
        Assert.Equal(6, adapter.Modules.Count);

        config["target_modules"] = "q_proj";
        File.WriteAllText(path, config.ToJsonString());
        Assert.Throws<ModelFormatException>(() => LoraAdapter.Load("rs", folder, BaseConfig));
    }

    [Fact]
    public void ShapeMismatchWithTheBaseNamesTheKey()
    {
        // lora-rs has r=8; claiming r=4 makes every A/B the wrong shape.
        var folder = models.CopyOf(models.LoraRs, "lora-shape");
        var path = Path.Combine(folder, LoraAdapter.ConfigFileName);
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        config["r"] = 4;
        File.WriteAllText(path, config.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => LoraAdapter.Load("x", folder, BaseConfig));
        Assert.Contains("lora_A.weight' has shape [8, ", e.Message);
        Assert.EndsWith(LoraAdapter.WeightsFileName, e.FilePath);
    }

    [Fact]
    public void AdapterForAnotherBaseIsRefused()
    {
        // Untied/tiny share shapes, so use a base config with a different hidden size.
        var other = BaseConfig with { HiddenSize = 96 };
        var e = Assert.Throws<ModelFormatException>(() => LoraAdapter.Load("x", models.LoraAll, other));
        Assert.Contains("has shape", e.Message);
    }

    [Fact]
    public void UnknownTensorInTheAdapterIsRefused()
    {
        var folder = RewriteAdapter("lora-unknown", names => [.. names, "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector"]);
        var e = Assert.Throws<ModelFormatException>(() => LoraAdapter.Load("x", folder, BaseConfig));
        Assert.Contains("'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector' does not belong", e.Message);
    }

    [Fact]
    public void MissingFactorIsRefused()
    {
        var folder = RewriteAdapter("lora-missing", names => [.. names.Where(n => n != "base_model.model.model.layers.1.mlp.up_proj.lora_B.weight")]);
        var e = Assert.Throws<ModelFormatException>(() => LoraAdapter.Load("x", folder, BaseConfig));
        Assert.Contains("'base_model.model.model.layers.1.mlp.up_proj.lora_B.weight' is missing", e.Message);
    }

    private string RewriteAdapter(string label, Func<List<string>, List<string>> names)
    {
        var folder = models.CopyOf(models.LoraAll, label);
        var file = Path.Combine(folder, LoraAdapter.WeightsFileName);
        List<SafeTensorToWrite> tensors;
        using (var source = SafeTensorsFile.Open(Path.Combine(models.LoraAll, LoraAdapter.WeightsFileName)))
        {
            var any = source.Tensors.Keys.First();
            tensors = [.. names([.. source.Tensors.Keys]).Select(n =>
            {
                using var t = source.Get(source.Tensors.ContainsKey(n) ? n : any);
                var bytes = t.bytes.ToArray();
                return new SafeTensorToWrite(n, SafeTensorDType.F32, source.Tensors[source.Tensors.ContainsKey(n) ? n : any].Shape, s => s.Write(bytes));
            })];
        }
        SafeTensorsWriter.Write(file, tensors);
        return folder;
    }
}

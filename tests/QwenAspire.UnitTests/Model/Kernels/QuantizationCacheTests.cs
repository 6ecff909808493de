using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Lora;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>
/// The quantization cache on the tiny bf16 fixture: the first load saves, the next reads the same packed weights
/// back (logits bit for bit), other content (a merged adapter, another mode) misses, and a damaged file is
/// ignored and replaced.
/// </summary>
[Collection(TinyModelsCollection.Name)]
public sealed class QuantizationCacheTests(TinyModels models) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"qwenaspire-qcache-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private Qwen3ForCausalLM Load(WeightQuantization mode) =>
        Qwen3ForCausalLM.Load(models.Bf16, new ModelLoadOptions { DType = "bf16", Quantization = mode, QuantizationCache = new QuantizationCache(_dir) });

    private static float[] Logits(Qwen3ForCausalLM model)
    {
        using var scope = NewDisposeScope();
        using var cache = new PagedKvCache(model.Config, 16, 1, ScalarType.Float32, model.Device);
        var pool = new PagedSequences(16, 1);
        var sequence = pool.Add();
        return model.Forward(pool.Step(sequence, [1, 200, 3000, 42]), cache).data<float>().ToArray();
    }

    [Theory]
    [InlineData(WeightQuantization.Int8)]
    [InlineData(WeightQuantization.Int4)]
    public void TheSecondLoadReadsWhatTheFirstSaved(WeightQuantization mode)
    {
        float[] first;
        using (var model = Load(mode))
        {
            Assert.StartsWith("quantized weights saved to", model.QuantizationCacheReport);
            first = Logits(model);
        }
        var files = Directory.GetFiles(_dir, "*.qaq");
        Assert.Single(files);
        using var again = Load(mode);
        Assert.Equal($"quantized weights read from {files[0]}", again.QuantizationCacheReport);
        Assert.All(again.Linears.Values, l => Assert.IsType<QuantizedWeight>(l.Weight));
        Assert.IsType<QuantizedWeight>(again.LmHead.Weight);
        Assert.Equal(first, Logits(again));
    }

    [Fact]
    public void OtherContentOrAnotherModeMisses()
    {
        using (var model = Load(WeightQuantization.Int8)) Assert.StartsWith("quantized weights saved", model.QuantizationCacheReport);
        using (var int4 = Load(WeightQuantization.Int4)) Assert.StartsWith("quantized weights saved", int4.QuantizationCacheReport);
        // The same checkpoint with an adapter merged is other weights: a third file, not a stale hit.
        using (var merged = Qwen3ForCausalLM.Load(models.Bf16, new ModelLoadOptions { DType = "bf16" }))
        {
            using var lora = LoraAdapter.Load("lora-all", models.LoraAll, merged.Config);
            merged.MergeAdapter(lora);
            using (no_grad()) merged.Quantize(WeightQuantization.Int8, 32, cache: new QuantizationCache(_dir));
            Assert.StartsWith("quantized weights saved", merged.QuantizationCacheReport);
        }
        Assert.Equal(3, Directory.GetFiles(_dir, "*.qaq").Length);
    }

    [Fact]
    public void ADamagedFileIsIgnoredAndReplaced()
    {
        float[] expected;
        using (var model = Load(WeightQuantization.Int8)) expected = Logits(model);
        var file = Directory.GetFiles(_dir, "*.qaq").Single();
        var length = new FileInfo(file).Length;
        using (var stream = new FileStream(file, FileMode.Open)) stream.SetLength(length / 2);
        using (var model = Load(WeightQuantization.Int8))
        {
            Assert.StartsWith("quantized weights saved", model.QuantizationCacheReport);
            Assert.Equal(expected, Logits(model));
        }
        Assert.Equal(length, new FileInfo(file).Length);
    }

    [Fact]
    public void AnUnwritableFolderOnlyCostsTime()
    {
        var blocked = Path.Combine(_dir, "file-not-folder");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(blocked, "a file where the cache folder should be");
        using var model = Qwen3ForCausalLM.Load(models.Bf16, new ModelLoadOptions { DType = "bf16", Quantization = WeightQuantization.Int8, QuantizationCache = new QuantizationCache(blocked) });
        Assert.Equal(WeightQuantization.Int8, model.Quantization);
        Assert.StartsWith("quantized weights not cached", model.QuantizationCacheReport);
    }
}

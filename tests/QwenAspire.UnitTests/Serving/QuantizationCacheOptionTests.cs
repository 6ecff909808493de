using QwenAspire.Engine.Model.Weights;
using QwenAspire.InferenceApi.Options;

namespace QwenAspire.UnitTests.Serving;

/// <summary>engine.quantization_cache: off, a folder, or auto (beside the model when writable, else the user cache).</summary>
public sealed class QuantizationCacheOptionTests : IDisposable
{
    private readonly string _model = Directory.CreateTempSubdirectory("qwenaspire-model-").FullName;

    public void Dispose() => Directory.Delete(_model, recursive: true);

    [Fact]
    public void NothingIsCachedWithoutQuantizationOrWhenOff()
    {
        Assert.Null(new EngineDeviceOptions { Quantization = WeightQuantization.None }.ResolveQuantizationCache(_model));
        Assert.Null(new EngineDeviceOptions { Quantization = WeightQuantization.Int8, QuantizationCache = "OFF" }.ResolveQuantizationCache(_model));
    }

    [Fact]
    public void AFolderIsTakenAsGivenAndAutoGoesBesideAWritableModel()
    {
        var folder = Path.Combine(_model, "elsewhere");
        Assert.Equal(folder, new EngineDeviceOptions { Quantization = WeightQuantization.Int4, QuantizationCache = folder }.ResolveQuantizationCache(_model)!.Directory);
        var auto = new EngineDeviceOptions { Quantization = WeightQuantization.Int4 }.ResolveQuantizationCache(_model)!;
        Assert.Equal(Path.Combine(_model, ".qwenaspire-cache"), auto.Directory);
        Assert.Empty(Directory.GetFiles(auto.Directory)); // the write probe leaves nothing behind
    }

    [Fact]
    public void AutoFallsBackToTheUserCacheWhenTheModelFolderIsNotWritable()
    {
        // A file where the cache folder would go makes the model folder's cache unusable, as a read-only mount would.
        File.WriteAllText(Path.Combine(_model, ".qwenaspire-cache"), "");
        var auto = new EngineDeviceOptions { Quantization = WeightQuantization.Int8 }.ResolveQuantizationCache(_model)!;
        Assert.NotEqual(Path.Combine(_model, ".qwenaspire-cache"), auto.Directory);
        Assert.EndsWith(Path.Combine("qwenaspire", "quantized"), auto.Directory);
    }
}

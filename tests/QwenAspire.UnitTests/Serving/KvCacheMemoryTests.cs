using QwenAspire.InferenceApi.Options;

namespace QwenAspire.UnitTests.Serving;

/// <summary>engine.kv_cache_memory's grammar: sizes with binary and decimal units, bytes, fractions; everything else refused.</summary>
public sealed class KvCacheMemoryTests
{
    [Theory]
    [InlineData("4GiB", 4L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("512 mib", 512L << 20)]
    [InlineData("1073741824", 1L << 30)]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("64k", 64L << 10)]
    public void SizesAreBytes(string text, long bytes)
    {
        Assert.True(KvCacheMemory.TryParse(text, out var b, out var f, out var error), error);
        Assert.Equal(bytes, b);
        Assert.Null(f);
    }

    [Theory]
    [InlineData("0.25", 0.25)]
    [InlineData("1.0", 1.0)]
    public void DecimalsUpToOneAreFractions(string text, double fraction)
    {
        Assert.True(KvCacheMemory.TryParse(text, out var b, out var f, out var error), error);
        Assert.Null(b);
        Assert.Equal(fraction, f);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("1.5")]
    [InlineData("-3GiB")]
    [InlineData("0")]
    [InlineData("4XB")]
    public void AnythingElseIsRefusedWithAReason(string text)
    {
        Assert.False(KvCacheMemory.TryParse(text, out _, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void OptionsBecomeRunnerSettings()
    {
        var settings = KvCacheMemory.ToSettings(new EngineDeviceOptions { KvCacheMemory = "256MiB", KvBlockSize = 32, KvCacheDtype = "f32" });
        Assert.Equal(256L << 20, settings.BudgetBytes);
        Assert.Null(settings.BudgetFraction);
        Assert.Equal(32, settings.BlockSize);
        Assert.Equal("f32", settings.DType);
    }
}

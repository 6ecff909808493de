using QwenAspire.Engine;
using TorchSharp;

namespace QwenAspire.UnitTests;

public sealed class TorchLoadsTests
{
    [Fact]
    public void NativeTorchLoadsAndMultiplies()
    {
        using var a = torch.eye(3) * 2;
        using var b = a.matmul(a);
        Assert.Equal(12f, b.sum().item<float>());
        Assert.Equal("cpu", TorchRuntime.ResolveDevice("cpu").type.ToString().ToLowerInvariant());
    }
}

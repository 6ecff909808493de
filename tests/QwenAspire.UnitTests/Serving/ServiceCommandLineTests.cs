using QwenAspire.InferenceApi.Options;

namespace QwenAspire.UnitTests.Serving;

public sealed class ServiceCommandLineTests
{
    [Fact]
    public void SwitchesMapToConfigurationKeys()
    {
        var cl = ServiceCommandLine.Parse(["--model", "/m", "--served-model-name=qwen", "--host", "127.0.0.1", "--port", "9000",
            "--dtype", "bfloat16", "--threads", "2", "--device", "cuda", "--config", "other.yaml"]);
        Assert.Equal("/m", cl.Values["model:path"]);
        Assert.Equal("qwen", cl.Values["model:served_model_name"]);
        Assert.Equal("127.0.0.1", cl.Values["server:host"]);
        Assert.Equal("9000", cl.Values["server:port"]);
        Assert.Equal("bfloat16", cl.Values["model:dtype"]);
        Assert.Equal("2", cl.Values["engine:threads"]);
        Assert.Equal("cuda", cl.Values["engine:device"]);
        Assert.Equal("other.yaml", cl.ConfigFile);
        Assert.True(cl.ConfigFileExplicit);
        Assert.True(cl.EndpointExplicit);
    }

    [Fact]
    public void LoraAndApiKeyRepeat()
    {
        var cl = ServiceCommandLine.Parse(["--lora", "med=/a/med", "--lora=law=/a/law", "--api-key", "k1", "--api-key", "k2"]);
        Assert.Equal("/a/med", cl.Values["model:adapters:med"]);
        Assert.Equal("/a/law", cl.Values["model:adapters:law"]);
        Assert.Equal("k1", cl.Values["server:api_keys:0"]);
        Assert.Equal("k2", cl.Values["server:api_keys:1"]);
    }

    [Fact]
    public void OtherArgumentsPassThroughToAspNet()
    {
        var cl = ServiceCommandLine.Parse(["--urls", "http://127.0.0.1:0", "--model", "/m", "--Logging:LogLevel:Default=Debug"]);
        Assert.Equal(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Debug"], cl.RemainingArgs);
        Assert.False(cl.EndpointExplicit);
        Assert.Equal(ServiceCommandLine.DefaultConfigFile, cl.ConfigFile);
    }

    [Theory]
    [InlineData("--lora", "nodir", "NAME=DIR")]
    [InlineData("--lora", "=dir", "NAME=DIR")]
    [InlineData("--port", null, "'--port' needs a value")]
    public void MalformedSwitchesAreNamed(string name, string? value, string expected)
    {
        string[] args = value is null ? [name] : [name, value];
        var ex = Assert.Throws<ArgumentException>(() => ServiceCommandLine.Parse(args));
        Assert.Contains(expected, ex.Message);
    }
}

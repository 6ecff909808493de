using Microsoft.Extensions.Configuration;

namespace QwenAspire.InferenceApi.Options;

/// <summary>The <c>dify</c> section: the key Dify's model provider is configured with.</summary>
public sealed class DifyOptions
{
    public const string Section = "dify";

    [ConfigurationKeyName("api_key")]
    public string? ApiKey { get; set; }
}

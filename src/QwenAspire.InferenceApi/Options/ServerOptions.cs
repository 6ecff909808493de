using Microsoft.Extensions.Configuration;

namespace QwenAspire.InferenceApi.Options;

/// <summary>The <c>server</c> section: where to listen and who may call.</summary>
public sealed class ServerOptions
{
    public const string Section = "server";
    public const string DefaultApiKey = "sk-qwen3-1.7b-local-dev-key-12345";

    /// <summary>0.0.0.0 (all interfaces, so Dify in Docker can reach it), localhost, or an IP.</summary>
    public string Host { get; set; } = "0.0.0.0";
    public int Port { get; set; } = 8000;

    /// <summary>Accepted keys besides <c>OPENAI_API_KEY</c> and <c>dify.api_key</c> (<c>--api-key</c>, repeatable).</summary>
    [ConfigurationKeyName("api_keys")]
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>Requests with a larger body get 413.</summary>
    [ConfigurationKeyName("max_request_body_bytes")]
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Seconds a SIGTERM leaves in-flight requests to finish; then they end with finish_reason "abort" and
    /// [DONE]. Becomes the engine's shutdown timeout; the host waits a little longer so those last events go out.
    /// </summary>
    [ConfigurationKeyName("shutdown_timeout")]
    public double ShutdownTimeoutSeconds { get; set; } = 10;
}

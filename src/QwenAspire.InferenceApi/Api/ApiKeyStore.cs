using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using QwenAspire.InferenceApi.Options;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// The accepted API keys: --api-key / server.api_keys, OPENAI_API_KEY and dify.api_key; with none set, the
/// old service's default key (a warning says so at start). Keys are kept only as SHA-256 digests and
/// compared in constant time; they are never logged. The same keys open a protected Prometheus endpoint.
/// </summary>
public sealed partial class ApiKeyStore : IScrapeKeyValidator
{
    private readonly byte[][] _digests;

    public ApiKeyStore(IOptions<ServerOptions> server, IOptions<DifyOptions> dify, IConfiguration configuration, ILogger<ApiKeyStore> logger)
    {
        var keys = server.Value.ApiKeys
            .Append(configuration[ServiceConfiguration.OpenAiApiKeyVariable])
            .Append(dify.Value.ApiKey)
            .Where(k => !string.IsNullOrWhiteSpace(k))
            .Select(k => k!.Trim())
            .Distinct(StringComparer.Ordinal)
            .ToList();
        UsesDefaultKey = keys.Count == 0;
        if (UsesDefaultKey)
        {
            LogDefaultKey(logger, ServerOptions.DefaultApiKey);
            keys.Add(ServerOptions.DefaultApiKey);
        }
        else
        {
            LogKeyCount(logger, keys.Count);
        }
        _digests = keys.Select(Digest).ToArray();
    }

    public bool UsesDefaultKey { get; }

    public bool IsValid(string? key)
    {
        if (string.IsNullOrEmpty(key)) return false;
        byte[] digest = Digest(key);
        bool match = false;
        foreach (var known in _digests)
            match |= CryptographicOperations.FixedTimeEquals(digest, known); // no early exit: timing says nothing
        return match;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    // The default key is public (it is in the docs), so naming it helps; configured keys are never printed.
    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key configured (--api-key, OPENAI_API_KEY, dify.api_key): accepting the public default key '{DefaultKey}'. Set your own key before exposing this server.")]
    private static partial void LogDefaultKey(ILogger logger, string defaultKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} API key(s) configured.")]
    private static partial void LogKeyCount(ILogger logger, int count);
}

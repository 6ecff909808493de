using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using QwenAspire.Sdk;

namespace Microsoft.Extensions.Hosting;

/// <summary>Aspire client integration: <c>builder.AddQwenClient("inferenceapi")</c>.</summary>
public static class QwenHostingExtensions
{
    /// <summary>Configuration section read before <c>configure</c>: <c>Aspire:QwenAspire:{connectionName}</c>.</summary>
    public const string ConfigurationSectionPrefix = "Aspire:QwenAspire";

    /// <summary>
    /// Registers an <see cref="IChatClient"/> (plus <see cref="QwenChatClient"/>) for the AppHost resource
    /// <paramref name="connectionName"/>. Where it connects, first match wins: <c>configure</c>; the section
    /// <c>Aspire:QwenAspire:{name}</c> (Endpoint, ApiKey, Model, Timeout); <c>ConnectionStrings:{name}</c> as a
    /// URL or <c>Endpoint=…;Key=…;Model=…</c>; else service discovery at <c>https+http://{name}</c> (what
    /// <c>.WithReference(api)</c> in the AppHost provides).
    /// </summary>
    public static ChatClientBuilder AddQwenClient(this IHostApplicationBuilder builder, string connectionName,
        Action<QwenClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        var configuration = builder.Configuration;

        void Configure(QwenClientOptions options)
        {
            options.Endpoint = new Uri($"https+http://{connectionName}");
            ApplyConnectionString(options, configuration.GetConnectionString(connectionName), connectionName);
            configuration.GetSection($"{ConfigurationSectionPrefix}:{connectionName}").Bind(options);
            configure?.Invoke(options);
        }

        builder.Services.AddServiceDiscovery();
        return builder.Services.AddQwenChatClient(Configure, http => http.AddServiceDiscovery());
    }

    internal static void ApplyConnectionString(QwenClientOptions options, string? connectionString, string connectionName)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            return;
        if (Uri.TryCreate(connectionString, UriKind.Absolute, out var plain) && !connectionString.Contains(';'))
        {
            options.Endpoint = plain;
            return;
        }
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
                throw new InvalidOperationException($"ConnectionStrings:{connectionName}: '{part}' is not Key=Value.");
            var (key, value) = (part[..eq].Trim(), part[(eq + 1)..].Trim());
            switch (key.ToLowerInvariant())
            {
                case "endpoint":
                    options.Endpoint = Uri.TryCreate(value, UriKind.Absolute, out var uri)
                        ? uri
                        : throw new InvalidOperationException($"ConnectionStrings:{connectionName}: Endpoint '{value}' is not an absolute URI.");
                    break;
                case "key" or "apikey" or "api-key":
                    options.ApiKey = value;
                    break;
                case "model":
                    options.Model = value;
                    break;
                default:
                    throw new InvalidOperationException($"ConnectionStrings:{connectionName}: unknown key '{key}' (expected Endpoint, Key, Model).");
            }
        }
    }
}

using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using QwenAspire.Sdk;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="QwenChatClient"/> as the application's <see cref="IChatClient"/>.</summary>
public static class QwenServiceCollectionExtensions
{
    /// <summary>Name of the <see cref="HttpClient"/> (and of its options) registered for the client.</summary>
    public const string HttpClientName = "QwenAspire.Sdk";

    /// <summary>
    /// Registers an <see cref="IChatClient"/> talking to the Qwen endpoint through <see cref="IHttpClientFactory"/>.
    /// The returned builder adds middleware, e.g. <c>.UseFunctionInvocation()</c>.
    /// </summary>
    public static ChatClientBuilder AddQwenChatClient(this IServiceCollection services, Action<QwenClientOptions> configure) =>
        services.AddQwenChatClient(configure, configureHttpClient: null);

    internal static ChatClientBuilder AddQwenChatClient(this IServiceCollection services, Action<QwenClientOptions> configure,
        Action<IHttpClientBuilder>? configureHttpClient)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddQwenHttpClient(configure, configureHttpClient);
        return services.AddChatClient(CreateClient);
    }

    /// <summary>Options, named HttpClient and the typed <see cref="QwenChatClient"/>; shared by every registration path.</summary>
    internal static void AddQwenHttpClient(this IServiceCollection services, Action<QwenClientOptions> configure,
        Action<IHttpClientBuilder>? configureHttpClient)
    {
        services.AddOptions<QwenClientOptions>()
            .Configure(configure)
            .Validate(o => { o.Validate(); return true; });

        var http = services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        configureHttpClient?.Invoke(http);

        // Apps built on Aspire ServiceDefaults add the standard resilience handler to every HttpClient; its
        // 10 s attempt timeout would cut a long generation. Size it from our own timeout instead.
        services.AddOptions<HttpStandardResilienceOptions>($"{HttpClientName}-standard")
            .Configure<IOptions<QwenClientOptions>>((resilience, qwen) =>
            {
                var timeout = qwen.Value.Timeout == Timeout.InfiniteTimeSpan ? TimeSpan.FromDays(1) : qwen.Value.Timeout;
                resilience.AttemptTimeout.Timeout = timeout;
                resilience.TotalRequestTimeout.Timeout = timeout * 3;
                resilience.CircuitBreaker.SamplingDuration = timeout * 2;
            });

        services.TryAddSingleton(CreateClient);
    }

    private static QwenChatClient CreateClient(IServiceProvider services)
    {
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
        return new QwenChatClient(http, services.GetRequiredService<IOptions<QwenClientOptions>>().Value);
    }
}

using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel.ChatCompletion;
using QwenAspire.Sdk;

namespace Microsoft.SemanticKernel;

/// <summary>Semantic Kernel face of the SDK: an <see cref="IChatCompletionService"/> over the same <see cref="QwenChatClient"/>.</summary>
public static class QwenKernelBuilderExtensions
{
    /// <summary>
    /// Registers the Qwen endpoint as the kernel's chat completion service. Function calling works with
    /// <c>FunctionChoiceBehavior.Auto()</c>: kernel functions are sent as tools and invoked by SK's
    /// function-invoking chat client, streaming included.
    /// </summary>
    public static IKernelBuilder AddQwenChatCompletion(this IKernelBuilder builder, Action<QwenClientOptions> configure, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddQwenChatCompletion(configure, serviceId);
        return builder;
    }

    /// <summary>Same registration on a plain service collection (for apps that build kernels from DI).</summary>
    public static IServiceCollection AddQwenChatCompletion(this IServiceCollection services, Action<QwenClientOptions> configure, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddQwenHttpClient(configure, configureHttpClient: null);
        services.AddKeyedSingleton<IChatCompletionService>(serviceId, (sp, _) => CreateService(sp.GetRequiredService<QwenChatClient>(), sp));
        return services;
    }

    /// <summary>Wraps an existing client (e.g. one made by hand) as a Semantic Kernel chat completion service.</summary>
    public static IChatCompletionService AsQwenChatCompletionService(this QwenChatClient client, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return CreateService(client, services);
    }

    private static IChatCompletionService CreateService(IChatClient client, IServiceProvider? services)
    {
        var loggers = services?.GetService<ILoggerFactory>();
        var invoking = new ChatClientBuilder(client).UseKernelFunctionInvocation(loggers).Build(services);
        return invoking.AsChatCompletionService(services);
    }
}

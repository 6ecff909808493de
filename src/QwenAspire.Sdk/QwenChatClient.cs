using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using QwenAspire.Sdk.Wire;

namespace QwenAspire.Sdk;

/// <summary>
/// <see cref="IChatClient"/> for the QwenAspire OpenAI-compatible endpoint. Reasoning arrives as
/// <see cref="TextReasoningContent"/>, tool calls as <see cref="FunctionCallContent"/> (so
/// <see cref="FunctionInvokingChatClient"/> can run them), usage as <see cref="UsageDetails"/>; server errors
/// throw <see cref="QwenApiException"/>. Extensions such as <c>min_p</c>, <c>enable_thinking</c> or
/// <c>return_token_ids</c> go in <see cref="ChatOptions.AdditionalProperties"/> under their wire names.
/// </summary>
public sealed class QwenChatClient : IChatClient
{
    private readonly QwenApiClient _api;
    private readonly HttpClient? _ownedHttpClient;
    private readonly ChatClientMetadata _metadata;

    /// <summary>Uses <paramref name="httpClient"/> as given (its handlers, its lifetime); the client does not dispose it.</summary>
    public QwenChatClient(HttpClient httpClient, QwenClientOptions options)
        : this(httpClient, options, ownsHttpClient: false)
    {
    }

    /// <summary>Creates and owns a plain <see cref="HttpClient"/>; prefer the DI registration in applications.</summary>
    public QwenChatClient(QwenClientOptions options)
        : this(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, options, ownsHttpClient: true)
    {
    }

    private QwenChatClient(HttpClient httpClient, QwenClientOptions options, bool ownsHttpClient)
    {
        _api = new QwenApiClient(httpClient, options);
        _ownedHttpClient = ownsHttpClient ? httpClient : null;
        _metadata = new ChatClientMetadata("qwenaspire", _api.ApiBase, options.Model);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var model = await _api.ResolveModelAsync(options?.ModelId, cancellationToken).ConfigureAwait(false);
        var request = ChatRequestMapper.Map(messages, options, model);
        var response = await _api.CreateChatCompletionAsync(request, cancellationToken).ConfigureAwait(false);
        return ChatResponseMapper.Map(response);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var model = await _api.ResolveModelAsync(options?.ModelId, cancellationToken).ConfigureAwait(false);
        var request = ChatRequestMapper.Map(messages, options, model);
        var mapper = new StreamingUpdateMapper();
        await foreach (var chunk in _api.StreamChatCompletionAsync(request, cancellationToken).ConfigureAwait(false))
        {
            foreach (var update in mapper.Map(chunk))
                yield return update;
        }
        if (mapper.Complete() is { } pending)
            yield return pending;
    }

    /// <summary>The models the server serves (<c>GET /v1/models</c>).</summary>
    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        _api.ListModelsAsync(cancellationToken);

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(ChatClientMetadata))
            return _metadata;
        if (serviceType == typeof(QwenClientOptions))
            return _api.Options;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose() => _ownedHttpClient?.Dispose();
}

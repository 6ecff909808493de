using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace QwenAspire.Sdk.Wire;

/// <summary>
/// The one wire implementation: OpenAI-compatible HTTP calls over a caller-owned <see cref="HttpClient"/>.
/// Both public faces (<see cref="QwenChatClient"/> and the Semantic Kernel service) go through it.
/// </summary>
internal sealed class QwenApiClient
{
    private readonly HttpClient _http;
    private readonly QwenClientOptions _options;
    private readonly Uri _apiBase;
    private string? _discoveredModel;

    public QwenApiClient(HttpClient http, QwenClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _http = http;
        _options = options;
        _apiBase = options.ApiBase;
    }

    public QwenClientOptions Options => _options;

    public Uri ApiBase => _apiBase;

    public async Task<ChatCompletionResponse> CreateChatCompletionAsync(ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        request.Stream = null;
        request.StreamOptions = null;
        using var message = CreatePost("chat/completions", request);
        using var timeout = CreateTimeout(cancellationToken);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, timeout.Token).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        var result = await JsonSerializer.DeserializeAsync(body, QwenJsonContext.Default.ChatCompletionResponse, timeout.Token).ConfigureAwait(false)
            ?? throw new QwenApiException("The server answered an empty body to chat/completions.", response.StatusCode, null, null, null);
        if (result.Error is not null)
            throw ToException(result.Error, response.StatusCode, null);
        return result;
    }

    /// <summary>Yields chunks as the server sends them; ends at <c>data: [DONE]</c> or end of stream.</summary>
    public async IAsyncEnumerable<ChatCompletionResponse> StreamChatCompletionAsync(ChatCompletionRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        request.Stream = true;
        request.StreamOptions = _options.IncludeUsageInStreams ? new WireStreamOptions { IncludeUsage = true } : null;
        using var message = CreatePost("chat/completions", request);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var timeout = CreateTimeout(cancellationToken);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, timeout.Token).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        await foreach (var data in SseReader.ReadEventsAsync(body, timeout.Token).ConfigureAwait(false))
        {
            if (data == "[DONE]")
                yield break;
            ChatCompletionResponse? chunk;
            try
            {
                chunk = JsonSerializer.Deserialize(data, QwenJsonContext.Default.ChatCompletionResponse);
            }
            catch (JsonException ex)
            {
                throw new QwenApiException($"The server sent a stream event that is not JSON: {Truncate(data)}", response.StatusCode, null, null, null, null, ex);
            }
            if (chunk is null)
                continue;
            if (chunk.Error is not null)
                throw ToException(chunk.Error, response.StatusCode, null);
            yield return chunk;
        }
    }

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(_apiBase, "models"));
        AddAuth(message);
        using var timeout = CreateTimeout(cancellationToken);
        using var response = await _http.SendAsync(message, timeout.Token).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, timeout.Token).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        var list = await JsonSerializer.DeserializeAsync(body, QwenJsonContext.Default.ModelList, timeout.Token).ConfigureAwait(false);
        return list?.Data?.Select(m => m.Id).ToArray() ?? [];
    }

    /// <summary>Per-call model, else the configured one, else the first model the server lists (looked up once).</summary>
    public async ValueTask<string> ResolveModelAsync(string? requested, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(requested))
            return requested;
        if (!string.IsNullOrWhiteSpace(_options.Model))
            return _options.Model;
        if (_discoveredModel is not null)
            return _discoveredModel;
        var models = await ListModelsAsync(cancellationToken).ConfigureAwait(false);
        if (models.Count == 0)
            throw new InvalidOperationException($"No model was given (ChatOptions.ModelId or {nameof(QwenClientOptions)}.{nameof(QwenClientOptions.Model)}) and GET {_apiBase}models listed none.");
        return _discoveredModel = models[0];
    }

    private HttpRequestMessage CreatePost(string path, ChatCompletionRequest request)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_apiBase, path))
        {
            Content = JsonContent.Create(request, QwenJsonContext.Default.ChatCompletionRequest),
        };
        AddAuth(message);
        return message;
    }

    private void AddAuth(HttpRequestMessage message)
    {
        if (!string.IsNullOrEmpty(_options.ApiKey))
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
    }

    private CancellationTokenSource CreateTimeout(CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_options.Timeout != Timeout.InfiniteTimeSpan)
            cts.CancelAfter(_options.Timeout);
        return cts;
    }

    private static async Task ThrowIfErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        WireError? error = null;
        try
        {
            error = JsonSerializer.Deserialize(text, QwenJsonContext.Default.ErrorEnvelope)?.Error;
        }
        catch (JsonException)
        {
            // Not our envelope (a proxy page, say): the raw text below still tells the caller what happened.
        }
        if (error is not null)
            throw ToException(error, response.StatusCode, retryAfter);
        throw new QwenApiException(
            $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} from {response.RequestMessage?.RequestUri}: {Truncate(text)}",
            response.StatusCode, null, null, null, retryAfter);
    }

    private static QwenApiException ToException(WireError error, HttpStatusCode status, TimeSpan? retryAfter)
    {
        var code = error.Code switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
            _ => null,
        };
        return new QwenApiException(error.Message ?? $"The server reported an error without a message (HTTP {(int)status}).",
            status, error.Type, code, error.Param, retryAfter);
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500] + "…";
}

using System.Net;
using System.Text;
using System.Text.Json;

namespace QwenAspire.Sdk.Tests;

/// <summary>
/// An <see cref="HttpMessageHandler"/> that answers with captured server responses, in order, and keeps every
/// request it saw (method, URI, headers, body) so tests can inspect exactly what went over the wire.
/// </summary>
internal sealed class RecordedServer : HttpMessageHandler
{
    private readonly Queue<Func<HttpResponseMessage>> _responses = new();

    public List<RecordedRequest> Requests { get; } = [];

    public static string Read(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Recorded", name));

    public RecordedServer Json(string recordedFile, HttpStatusCode status = HttpStatusCode.OK) =>
        Enqueue(() => new HttpResponseMessage(status) { Content = new StringContent(Read(recordedFile), Encoding.UTF8, "application/json") });

    public RecordedServer JsonText(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        Enqueue(() => new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") });

    public RecordedServer Sse(string recordedFile) =>
        Enqueue(() => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Read(recordedFile))))
            {
                Headers = { ContentType = new("text/event-stream") },
            },
        });

    public RecordedServer Enqueue(Func<HttpResponseMessage> response)
    {
        _responses.Enqueue(response);
        return this;
    }

    public QwenChatClient CreateClient(string? model = "qwen3-1.7b", string endpoint = "http://qwen.test:8000") =>
        new(new HttpClient(this), new QwenClientOptions { Endpoint = new Uri(endpoint), ApiKey = "sk-test", Model = model });

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add(new RecordedRequest(request.Method, request.RequestUri!, request.Headers.Authorization?.ToString(), body));
        if (_responses.Count == 0)
            throw new InvalidOperationException($"No recorded response left for {request.Method} {request.RequestUri}.");
        var response = _responses.Dequeue()();
        response.RequestMessage = request;
        return response;
    }
}

internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, string? Authorization, string? Body)
{
    public JsonElement Json => JsonDocument.Parse(Body ?? throw new InvalidOperationException("Request had no body.")).RootElement;
}

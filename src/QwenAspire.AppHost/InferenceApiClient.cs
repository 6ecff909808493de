using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.AppHost;

/// <summary>The few InferenceApi calls the AppHost makes: load state, served models, runtime adapters (vLLM payloads).</summary>
internal sealed class InferenceApiClient(HttpClient http)
{
    internal sealed record ModelStatus(string State, double? Progress, string Detail);

    internal sealed record ModelCard(string Id, string? Parent);

    private sealed record ModelList(List<ModelCard> Data);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary><c>GET /health/model</c> (public).</summary>
    public async Task<ModelStatus> StatusAsync(Uri api, CancellationToken ct) =>
        await http.GetFromJsonAsync<ModelStatus>(new Uri(api, "/health/model"), Json, ct)
        ?? throw new InvalidOperationException("empty /health/model answer");

    public async Task<IReadOnlyList<ModelCard>> ModelsAsync(Uri api, string key, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(api, "/v1/models"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<ModelList>(Json, ct))?.Data ?? [];
    }

    public Task LoadAdapterAsync(Uri api, string key, string name, string path, CancellationToken ct) =>
        PostAsync(api, "/v1/load_lora_adapter", key, new { lora_name = name, lora_path = path }, ct);

    public Task UnloadAdapterAsync(Uri api, string key, string name, CancellationToken ct) =>
        PostAsync(api, "/v1/unload_lora_adapter", key, new { lora_name = name }, ct);

    private async Task PostAsync(Uri api, string path, string key, object body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api, path)) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
    }

    /// <summary>Throws with the API's own error message (the OpenAI envelope's <c>error.message</c>).</summary>
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        string text = await response.Content.ReadAsStringAsync(ct);
        string message = text;
        try
        {
            using var doc = JsonDocument.Parse(text);
            message = doc.RootElement.GetProperty("error").GetProperty("message").GetString() ?? text;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
        }
        throw new InferenceApiException((int)response.StatusCode, message);
    }
}

internal sealed class InferenceApiException(int status, string message) : Exception($"{status}: {message}")
{
    public int Status { get; } = status;
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests;

/// <summary>One server with the generated tiny demo model (random weights, real Qwen3 tokenizer), shared by the model tests.</summary>
public sealed class ModelServer : IAsyncLifetime
{
    public const string Model = "qwen3-demo";
    public static readonly string DemoDirectory = Path.Combine(Path.GetTempPath(), "qwenaspire-functional-demo-model");

    public TestApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await TestApp.StartAsync("--Model:demo_directory=" + DemoDirectory);
        await WaitReadyAsync(App);
    }

    public async Task DisposeAsync() => await App.DisposeAsync();

    public static async Task WaitReadyAsync(TestApp app)
    {
        using var client = app.Client(key: null);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while ((await client.GetAsync("/health")).StatusCode != System.Net.HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "model did not become ready within 3 minutes");
            await Task.Delay(200);
        }
    }

    public static StringContent Json(object body) =>
        new(body is string s ? s : JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public async Task<JsonObject> PostJsonAsync(string path, object body)
    {
        using var client = App.Client();
        var response = await client.PostAsync(path, Json(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Reads an SSE stream the way Dify does: split on blank lines, skip ':' lines, strip "data:", stop at [DONE] or non-JSON.</summary>
    public static async Task<(List<JsonObject> Events, bool SawDone)> ReadStreamLikeDifyAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        var events = new List<JsonObject>();
        foreach (var raw in body.Split("\n\n"))
        {
            string chunk = raw.Trim();
            if (chunk.Length == 0 || chunk.StartsWith(':')) continue;
            Assert.DoesNotContain("\n", chunk);          // one data: line per event
            Assert.StartsWith("data: ", chunk);
            Assert.DoesNotContain("event:", chunk);
            string data = chunk["data:".Length..].TrimStart();
            if (data == "[DONE]") return (events, true);
            events.Add(JsonNode.Parse(data)!.AsObject());
        }
        return (events, false);
    }
}

[CollectionDefinition(Name)]
public sealed class ModelCollection : ICollectionFixture<ModelServer>
{
    public const string Name = "model server";
}

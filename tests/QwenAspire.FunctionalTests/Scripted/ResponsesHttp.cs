using System.Net;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>POST /v1/responses over plain HTTP, and its event stream read line by line (event: and data: per event).</summary>
internal static class ResponsesHttp
{
    public static async Task<JsonObject> PostAsync(TestApp app, object body)
    {
        using var client = app.Client();
        var response = await client.PostAsync("/v1/responses", ModelServer.Json(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<ErrorEnvelope> PostErrorAsync(TestApp app, object body, HttpStatusCode expected)
    {
        using var client = app.Client();
        var response = await client.PostAsync("/v1/responses", ModelServer.Json(body));
        var error = await ErrorEnvelope.ReadAsync(response);
        Assert.Equal(expected, response.StatusCode);
        return error;
    }

    /// <summary>
    /// The events in order. Each must be one <c>event: NAME</c> line and one <c>data: {json}</c> line whose type
    /// is NAME; there is no <c>[DONE]</c> (the Responses stream ends with its last event).
    /// </summary>
    public static async Task<List<JsonObject>> StreamAsync(TestApp app, object body)
    {
        using var client = app.Client();
        var response = await client.PostAsync("/v1/responses", ModelServer.Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        var events = new List<JsonObject>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            Assert.DoesNotContain("[DONE]", lines[1]);
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!.AsObject();
            Assert.Equal(lines[0]["event: ".Length..], (string?)data["type"]);
            events.Add(data);
        }
        return events;
    }

    public static List<string> Types(IEnumerable<JsonObject> events) => events.Select(e => (string)e["type"]!).ToList();

    public static string Concat(IEnumerable<JsonObject> events, string type) =>
        string.Concat(events.Where(e => (string?)e["type"] == type).Select(e => (string?)e["delta"]));
}

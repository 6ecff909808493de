using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// Text that is not valid Unicode inside a JSON body (found by a fuzz pass as 500s): a lone surrogate escape and a
/// raw invalid UTF-8 byte, in a field the handler reads lazily (message content) and in a property name, on every
/// route that reads JSON. Each must be a 400 invalid_json that says what is wrong, and the server keeps serving.
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class InvalidTextTests(ModelServer server)
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var route in new[] { "/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize" })
            foreach (var kind in new[] { "high-surrogate", "low-surrogate", "invalid-utf8", "invalid-utf8-name" })
                data.Add(route, kind);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task InvalidTextIs400InvalidJson(string route, string kind)
    {
        using var client = server.App.Client();
        using var content = new ByteArrayContent(Body(route, kind));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var response = await client.PostAsync(route, content);
        var error = await ErrorEnvelope.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("invalid_json", error.Code);
        Assert.Contains("Unicode", error.Message);

        // The same route still answers a good request.
        var ok = await client.PostAsync(route, ModelServer.Json(Encoding.UTF8.GetString(Body(route, "valid"))));
        Assert.True(ok.IsSuccessStatusCode, $"{(int)ok.StatusCode}: {await ok.Content.ReadAsStringAsync()}");
    }

    /// <summary>A minimal valid request of the route with one text field (or a property name) replaced by the bad text.</summary>
    private static byte[] Body(string route, string kind)
    {
        byte[] text = kind switch
        {
            "high-surrogate" => Encoding.ASCII.GetBytes("a\\ud800b"),
            "low-surrogate" => Encoding.ASCII.GetBytes("a\\udc00"),
            "invalid-utf8" => [(byte)'a', 0xff, (byte)'b'],
            _ => Encoding.ASCII.GetBytes("hello"),
        };
        byte[] name = kind == "invalid-utf8-name" ? [(byte)'x', 0xfe, (byte)'y'] : Encoding.ASCII.GetBytes("user");
        string model = ModelServer.Model;
        var parts = route switch
        {
            "/v1/chat/completions" => ($"{{\"model\":\"{model}\",\"max_tokens\":1,\"metadata\":{{\"", "\":1},\"messages\":[{\"role\":\"user\",\"content\":\"", "\"}]}"),
            "/v1/completions" => ($"{{\"model\":\"{model}\",\"max_tokens\":1,\"metadata\":{{\"", "\":1},\"prompt\":\"", "\"}"),
            "/tokenize" => ($"{{\"model\":\"{model}\",\"metadata\":{{\"", "\":1},\"prompt\":\"", "\"}"),
            _ => ($"{{\"model\":\"{model}\",\"metadata\":{{\"", "\":1},\"tokens\":[1,2],\"note\":\"", "\"}"),
        };
        return [.. Encoding.ASCII.GetBytes(parts.Item1), .. name, .. Encoding.ASCII.GetBytes(parts.Item2), .. text, .. Encoding.ASCII.GetBytes(parts.Item3)];
    }
}

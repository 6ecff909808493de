using System.Net;
using System.Text.Json;

namespace QwenAspire.FunctionalTests;

/// <summary>Reads an OpenAI error envelope and checks its shape.</summary>
public sealed record ErrorEnvelope(HttpStatusCode Status, string Message, string Type, string? Param, string? Code)
{
    public static async Task<ErrorEnvelope> ReadAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"not JSON: {body}");
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("error");
        // All four keys are always present (param and code may be null), as in OpenAI's API.
        foreach (var key in new[] { "message", "type", "param", "code" })
            Assert.True(error.TryGetProperty(key, out _), $"error.{key} missing in {body}");
        Assert.DoesNotContain("   at ", body); // never a stack trace
        return new ErrorEnvelope(response.StatusCode, error.GetProperty("message").GetString()!, error.GetProperty("type").GetString()!,
            error.GetProperty("param").GetString(), error.GetProperty("code").GetString());
    }
}

namespace QwenAspire.FunctionalTests;

/// <summary>
/// engine.quantization end to end: the server quantizes the demo model at load and serves it; a bad value stops
/// start-up naming the key. (Closeness to the float path is the unit tests' and bench-quality's business.)
/// </summary>
public sealed class QuantizedServingTests
{
    [Theory]
    [InlineData("int8")]
    [InlineData("int4")]
    public async Task AQuantizedModelServesChat(string mode)
    {
        await using var app = await TestApp.StartAsync("--Model:demo_directory=" + ModelServer.DemoDirectory, "--quantization", mode);
        await ModelServer.WaitReadyAsync(app);
        using var client = app.Client();
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(new
        {
            model = ModelServer.Model,
            messages = new[] { new { role = "user", content = "你好" } },
            max_tokens = 8,
            ignore_eos = true,
            temperature = 0,
        }));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        var body = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        Assert.Equal(8, body["usage"]!["completion_tokens"]!.GetValue<int>());
    }
}

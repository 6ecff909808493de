using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// What the HTTP layer does on its own, whatever the model state: key checks, OpenAI-shaped errors for
/// bad requests (validated before the model is consulted), public paths, unknown routes, body limits.
/// </summary>
public sealed class ServerBeforeModelTests(ServerBeforeModelTests.Fixture fixture) : IClassFixture<ServerBeforeModelTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public TestApp App { get; private set; } = null!;
        public async Task InitializeAsync() => App = await TestApp.StartAsync("--config", WriteSmallBodyLimit());
        public async Task DisposeAsync() => await App.DisposeAsync();

        private static string WriteSmallBodyLimit()
        {
            string path = Path.Combine(Path.GetTempPath(), $"qwenaspire-{Guid.NewGuid():N}.yaml");
            File.WriteAllText(path, "server:\n  max_request_body_bytes: 65536\n");
            return path;
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("/alive")]
    [InlineData("/scalar")]
    [InlineData("/openapi/v1.json")]
    public async Task PublicPathsNeedNoKey(string path)
    {
        var response = await fixture.App.Client(key: null).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task HealthNeedsNoKey()
    {
        var response = await fixture.App.Client(key: null).GetAsync("/health");
        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task MissingKeyIs401WithEnvelope()
    {
        var error = await ErrorEnvelope.ReadAsync(await fixture.App.Client(key: null).GetAsync("/v1/models"));
        Assert.Equal((HttpStatusCode.Unauthorized, "missing_api_key"), (error.Status, error.Code));
    }

    [Fact]
    public async Task WrongKeyIs401AndUnknownPathsAreProtectedToo()
    {
        foreach (var path in new[] { "/v1/models", "/no/such/path" })
        {
            var error = await ErrorEnvelope.ReadAsync(await fixture.App.Client(key: "sk-wrong").GetAsync(path));
            Assert.Equal((HttpStatusCode.Unauthorized, "invalid_api_key"), (error.Status, error.Code));
            Assert.DoesNotContain("sk-wrong", error.Message);
        }
    }

    [Fact]
    public async Task KeyIsAcceptedInXApiKeyHeader()
    {
        var client = fixture.App.Client(key: null);
        client.DefaultRequestHeaders.Add("x-api-key", TestApp.Key);
        var response = await client.GetAsync("/v1/models");
        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task UnknownRouteIs404WithEnvelope()
    {
        var error = await ErrorEnvelope.ReadAsync(await fixture.App.Client().GetAsync("/v1/nothing-here"));
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (error.Status, error.Code));
    }

    [Theory]
    [InlineData("{\"model\": \"m\", \"messages\": [", null, "invalid_json")]
    [InlineData("not json", null, "invalid_json")]
    [InlineData("[1, 2]", null, "invalid_json")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"hot\"}", "temperature", "invalid_type")]
    [InlineData("{\"model\": \"m\", \"messages\": \"hi\"}", "messages", "invalid_type")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": 1}", "stream", "invalid_type")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "model", "missing_required_parameter")]
    [InlineData("{\"model\": \"m\"}", "messages", "missing_required_parameter")]
    [InlineData("{\"model\": \"m\", \"messages\": []}", "messages", "invalid_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 2.5}", "temperature", "invalid_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_p\": 0}", "top_p", "invalid_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}", "max_tokens", "invalid_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 0}", "n", "invalid_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"presence_penalty\": 3}", "presence_penalty", "invalid_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_logprobs\": 5}", "top_logprobs", "invalid_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 5}", "stop", "invalid_type")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream_options\": {\"include_usage\": true}}", "stream_options", "invalid_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"response_format\": {\"type\": \"xml\"}}", "response_format.type", "unsupported_value")]
    [InlineData("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tool_choice\": \"required\"}", "tool_choice", "invalid_value")]
    public async Task BadChatRequestsGet400NamingTheParam(string body, string? param, string code)
    {
        var error = await ErrorEnvelope.ReadAsync(await fixture.App.Client().PostAsync("/v1/chat/completions", Json(body)));
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(param, error.Param);
        Assert.Equal(code, error.Code);
        Assert.Equal("invalid_request_error", error.Type);
        if (param is not null) Assert.Contains(param, error.Message);
    }

    [Theory]
    [InlineData("{\"model\": \"m\"}", "prompt")]
    [InlineData("{\"model\": \"m\", \"prompt\": \"x\", \"logprobs\": 30}", "logprobs")]
    [InlineData("{\"model\": \"m\", \"prompt\": \"x\", \"suffix\": \"y\"}", "suffix")]
    public async Task BadCompletionRequestsGet400NamingTheParam(string body, string param)
    {
        var response = await fixture.App.Client().PostAsync("/v1/completions", Json(body));
        var error = await ErrorEnvelope.ReadAsync(response);
        // "prompt" is checked against the vocabulary, so before the model is ready it may be a 503 instead.
        if (error.Status == HttpStatusCode.ServiceUnavailable && param == "prompt") return;
        Assert.Equal((HttpStatusCode.BadRequest, param), (error.Status, error.Param));
    }

    [Fact]
    public async Task BodyOverTheLimitIs413()
    {
        string big = "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"" + new string('x', 100_000) + "\"}]}";
        var error = await ErrorEnvelope.ReadAsync(await fixture.App.Client().PostAsync("/v1/chat/completions", Json(big)));
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "request_too_large"), (error.Status, error.Code));
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/chat/completions")]
    [InlineData("/v1/chat/completions/chat/completions")]
    public async Task EveryChatRouteIsServed(string path)
    {
        var response = await fixture.App.Client().PostAsync(path, Json("{\"model\": \"m\", \"messages\": []}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode); // routed and validated, not 404
    }

    [Fact]
    public async Task OpenApiDocumentListsTheRoutes()
    {
        string doc = await fixture.App.Client(key: null).GetStringAsync("/openapi/v1.json");
        Assert.Contains("/v1/chat/completions", doc);
        Assert.Contains("/v1/completions", doc);
        Assert.Contains("/tokenize", doc);
        Assert.Contains("max_completion_tokens", doc);
    }
}

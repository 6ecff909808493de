using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// response_format and logit_bias through the real server with the random-weight demo model, which never
/// writes JSON by itself: every output must parse and validate only because the sampler is constrained. A
/// logit_bias on quotes and closing brackets stands in for a model that means to finish (the grammar still
/// decides what is allowed; inside a string ~147k tokens are, so the quote needs about e^12 to end strings
/// within a few tokens), so the bounded schemas below end well within max_tokens.
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class StructuredOutputTests(ModelServer server)
{
    private static readonly Qwen3Tokenizer s_tokenizer = Qwen3Tokenizer.LoadEmbedded();

    private static readonly string[] s_schemas =
    [
        """{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},"email":{"type":"string","maxLength":24}},"required":["name","age"],"additionalProperties":false}""",
        """{"type":"object","properties":{"color":{"enum":["red","green","blue",null]},"kind":{"const":"fixed"},"ok":{"type":"boolean"}},"required":["color","kind","ok"],"additionalProperties":false}""",
        """{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","maxLength":6},"minItems":1,"maxItems":3},"scores":{"type":"array","items":{"type":"number"},"maxItems":3}},"required":["tags","scores"],"additionalProperties":false}""",
        """{"type":"object","properties":{"v":{"anyOf":[{"type":"string","maxLength":4},{"type":"integer"},{"type":"null"}]},"shape":{"oneOf":[{"type":"object","properties":{"circle":{"type":"number"}},"required":["circle"],"additionalProperties":false},{"type":"object","properties":{"side":{"type":"integer"}},"required":["side"],"additionalProperties":false}]}},"required":["v","shape"],"additionalProperties":false}""",
        """{"$defs":{"node":{"type":"object","properties":{"id":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["id"],"additionalProperties":false}},"$ref":"#/$defs/node"}""",
        """{"type":"object","properties":{"code":{"type":"string","minLength":3,"maxLength":3},"note":{"type":["string","null"],"maxLength":8}},"required":["code","note"],"additionalProperties":false}""",
        """{"type":"array","items":{"type":"object","properties":{"k":{"type":"string","maxLength":3},"n":{"type":"integer"}},"required":["k","n"],"additionalProperties":false},"minItems":1,"maxItems":3}""",
        """{"type":"object","properties":{"答案":{"type":"string","maxLength":8},"meta":{"type":"object","additionalProperties":{"type":"boolean"}}},"required":["答案","meta"]}""",
        """{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-\\d{2,4}$"},"age":{"type":"integer","minimum":18,"maximum":99},"delta":{"type":"integer","exclusiveMinimum":-5,"exclusiveMaximum":5}},"required":["sku","age","delta"],"additionalProperties":false}""",
        """{"type":"object","properties":{"day":{"type":"string","format":"date"},"at":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"},"mail":{"type":"string","format":"email","maxLength":20}},"required":["day","at","id"],"additionalProperties":false}""",
        """{"type":"object","properties":{"p":{"type":"number","minimum":0,"maximum":1},"temp":{"type":"number","exclusiveMinimum":-40.5,"exclusiveMaximum":60.25},"neg":{"type":["number","null"],"maximum":-0.5},"xs":{"type":"array","items":{"type":"number","minimum":0.001,"exclusiveMaximum":0.002},"minItems":1,"maxItems":3},"q":{"type":"number","multipleOf":0.25,"minimum":-2,"maximum":2},"k":{"type":"integer","multipleOf":7}},"required":["p","temp","neg","xs","q","k"],"additionalProperties":false}""",
        """{"type":"array","items":{"anyOf":[{"type":"number","minimum":10,"maximum":10.5},{"type":"integer","minimum":-3,"maximum":3},{"type":"number","exclusiveMaximum":0}]},"minItems":2,"maxItems":4}""",
    ];

    private static Dictionary<string, object?> ClosingBias()
    {
        var bias = new Dictionary<string, object?>();
        foreach (var (token, value) in new[] { ("\"", 12.0), ("}", 8.0), ("]", 8.0), ("\",", 6.0), ("\"}", 6.0) })
            bias[s_tokenizer.TokenToId(Qwen3TokenSpelling(token))!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)] = value;
        return bias;
    }

    /// <summary>Vocabulary spelling of plain ASCII punctuation is the text itself (byte-level BPE maps it to itself).</summary>
    private static string Qwen3TokenSpelling(string text) => text;

    private static Dictionary<string, object?> Chat(object responseFormat, int n, long seed, bool stream = false) => new()
    {
        ["model"] = ModelServer.Model,
        ["messages"] = new[] { new { role = "user", content = "Describe a person as JSON." } },
        ["max_tokens"] = 400,
        ["temperature"] = 1.0,
        ["seed"] = seed,
        ["n"] = n,
        ["stream"] = stream,
        ["response_format"] = responseFormat,
        ["logit_bias"] = ClosingBias(),
    };

    private static object SchemaFormat(string schema) =>
        new { type = "json_schema", json_schema = new { name = "answer", strict = true, schema = JsonNode.Parse(schema) } };

    [Fact]
    public async Task TwoHundredFortyConstrainedOutputsOverVariedSchemasAllParseAndValidate()
    {
        // 12 schemas x 5 requests x n=4 = 240 outputs, plus 8 json_object ones below.
        var jobs = new List<(string Schema, long Seed)>();
        for (var s = 0; s < s_schemas.Length; s++)
            for (var r = 0; r < 5; r++) jobs.Add((s_schemas[s], 1000 * s + r));
        using var gate = new SemaphoreSlim(8);
        var results = await Task.WhenAll(jobs.Select(async job =>
        {
            await gate.WaitAsync();
            try { return (job.Schema, Response: await server.PostJsonAsync("/v1/chat/completions", Chat(SchemaFormat(job.Schema), 4, job.Seed))); }
            finally { gate.Release(); }
        }));
        var checkedCount = 0;
        foreach (var (schema, response) in results)
        {
            var validator = JsonSchema.FromText(schema);
            foreach (var choice in response["choices"]!.AsArray())
            {
                var content = (string?)choice!["message"]!["content"];
                Assert.True("stop" == (string?)choice["finish_reason"], $"{choice["finish_reason"]}: {content}");
                AssertValid(validator, content!, schema);
                checkedCount++;
            }
        }
        Assert.Equal(240, checkedCount);

        var objects = await server.PostJsonAsync("/v1/chat/completions", Chat(new { type = "json_object" }, 8, 7));
        foreach (var choice in objects["choices"]!.AsArray())
        {
            Assert.True("stop" == (string?)choice!["finish_reason"], $"{choice["finish_reason"]}: {choice["message"]!["content"]}");
            using var doc = JsonDocument.Parse((string)choice["message"]!["content"]!);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }
    }

    [Fact]
    public async Task StreamedDeltasConcatenateToAValidDocument()
    {
        using var client = server.App.Client();
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(Chat(SchemaFormat(s_schemas[0]), 1, 42, stream: true)));
        var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(response);
        Assert.True(done);
        var text = string.Concat(events.SelectMany(e => e["choices"]!.AsArray()).Select(c => (string?)c!["delta"]?["content"] ?? ""));
        AssertValid(JsonSchema.FromText(s_schemas[0]), text, s_schemas[0]);
        Assert.Equal("stop", (string?)events.Last(e => e["choices"]!.AsArray().Count > 0)["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task CompletionsHonourJsonObject()
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = ModelServer.Model, ["prompt"] = "JSON:", ["max_tokens"] = 300, ["temperature"] = 1.0, ["seed"] = 3, ["n"] = 3,
            ["response_format"] = new { type = "json_object" }, ["logit_bias"] = ClosingBias(),
        };
        var response = await server.PostJsonAsync("/v1/completions", body);
        foreach (var choice in response["choices"]!.AsArray())
        {
            Assert.True("stop" == (string?)choice!["finish_reason"], $"{choice["finish_reason"]}: {choice["text"]}");
            using var doc = JsonDocument.Parse((string)choice["text"]!);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"age":{"type":"number","minimum":1e30}}}""", "response_format.json_schema.schema.properties.age.minimum", "minimum")]
    [InlineData("""{"type":"object","properties":{"age":{"type":"number","multipleOf":1e-20}}}""", "response_format.json_schema.schema.properties.age.multipleOf", "multipleOf")]
    [InlineData("""{"type":"string","pattern":"^(?=a)[a-z]+$"}""", "response_format.json_schema.schema.pattern", "pattern")]
    [InlineData("""{"type":"object","properties":{"when":{"type":"string","format":"uri"}}}""", "response_format.json_schema.schema.properties.when.format", "format")]
    [InlineData("""{"type":"object","properties":{"n":{"type":"integer","multipleOf":0}}}""", "response_format.json_schema.schema.properties.n.multipleOf", "multipleOf")]
    [InlineData("""{"allOf":[{"type":"object"},{"required":["a"]}]}""", "response_format.json_schema.schema.allOf", "allOf")]
    public async Task UnsupportedSchemaKeywordsAnswer400NamingThem(string schema, string param, string keyword)
    {
        using var client = server.App.Client();
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json(Chat(SchemaFormat(schema), 1, 1)));
        var error = await ErrorEnvelope.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(param, error.Param);
        Assert.Equal("unsupported_schema", error.Code);
        Assert.Contains($"'{keyword}'", error.Message);
    }

    [Theory]
    [InlineData("""{"type":"json_schema"}""", "response_format.json_schema")]
    [InlineData("""{"type":"json_schema","json_schema":{"schema":{}}}""", "response_format.json_schema.name")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"x","schema":[]}}""", "response_format.json_schema.schema")]
    [InlineData("""{"type":"yaml"}""", "response_format.type")]
    public async Task MalformedResponseFormatsAnswer400(string format, string param)
    {
        using var client = server.App.Client();
        var body = Chat(JsonNode.Parse(format)!, 1, 1);
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions", ModelServer.Json(body)));
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(param, error.Param);
    }

    [Fact]
    public async Task ThinkingAndIgnoreEosCannotBeCombinedWithJson()
    {
        using var client = server.App.Client();
        var thinking = Chat(new { type = "json_object" }, 1, 1);
        thinking["chat_template_kwargs"] = new { enable_thinking = true };
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions", ModelServer.Json(thinking)));
        Assert.Equal("chat_template_kwargs.enable_thinking", error.Param);
        var ignoreEos = Chat(new { type = "json_object" }, 1, 1);
        ignoreEos["ignore_eos"] = true;
        error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions", ModelServer.Json(ignoreEos)));
        Assert.Equal("ignore_eos", error.Param);
    }

    [Fact]
    public async Task MinusHundredLogitBiasBansTheGreedyToken()
    {
        Dictionary<string, object?> Greedy(Dictionary<string, object?>? bias) => new()
        {
            ["model"] = ModelServer.Model, ["prompt"] = "Hello", ["max_tokens"] = 1, ["temperature"] = 0, ["return_token_ids"] = true,
            ["logit_bias"] = bias,
        };
        var first = await server.PostJsonAsync("/v1/completions", Greedy(null));
        var greedy = first["choices"]![0]!["token_ids"]![0]!.GetValue<int>();
        var banned = await server.PostJsonAsync("/v1/completions", Greedy(new() { [greedy.ToString(System.Globalization.CultureInfo.InvariantCulture)] = -100 }));
        Assert.NotEqual(greedy, banned["choices"]![0]!["token_ids"]![0]!.GetValue<int>());
        var forced = await server.PostJsonAsync("/v1/completions", Greedy(new() { ["9707"] = 100 }));
        Assert.Equal(9707, forced["choices"]![0]!["token_ids"]![0]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"abc": 1}""")]
    [InlineData("""{"-1": 1}""")]
    [InlineData("""{"5": 101}""")]
    [InlineData("""{"5": "x"}""")]
    [InlineData("""{"99999999": 1}""")]
    public async Task InvalidLogitBiasAnswers400NamingIt(string bias)
    {
        using var client = server.App.Client();
        var body = new Dictionary<string, object?>
        {
            ["model"] = ModelServer.Model, ["prompt"] = "Hello", ["max_tokens"] = 1, ["logit_bias"] = JsonNode.Parse(bias),
        };
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/completions", ModelServer.Json(body)));
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("logit_bias", error.Param);
    }

    private static void AssertValid(JsonSchema validator, string text, string schema)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException ex) { throw new Xunit.Sdk.XunitException($"not JSON ({ex.Message}): {text}"); }
        using (doc)
        {
            var result = validator.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
            Assert.True(result.IsValid, $"{text}\nis not valid against\n{schema}\n{string.Join("; ", errors)}");
        }
    }
}

using System.ClientModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using OpenAI;
using OpenAI.Chat;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// tool_choice "required" / a named function on the random-weight demo model, which never calls a tool by
/// itself: the calls parse and their arguments validate only because the grammar forces them. The tools'
/// parameters are bounded (maxLength, integer ranges, enums, patterns), so a call always ends within max_tokens.
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class ForcedToolCallTests(ModelServer server)
{
    internal const string WeatherSchema =
        """{"type":"object","properties":{"city":{"type":"string","maxLength":8},"days":{"type":"integer","minimum":1,"maximum":7},"unit":{"enum":["c","f"]}},"required":["city","days"],"additionalProperties":false}""";
    internal const string TimeSchema =
        """{"type":"object","properties":{"zone":{"type":"string","pattern":"^[A-Z]{3}$"},"date":{"type":"string","format":"date"}},"required":["zone"],"additionalProperties":false}""";

    private static readonly Dictionary<string, JsonSchema> s_validators = new()
    {
        ["get_weather"] = JsonSchema.FromText(WeatherSchema),
        ["get_time"] = JsonSchema.FromText(TimeSchema),
    };

    internal static JsonArray Tools(string? weatherSchema = null) => JsonNode.Parse(
        "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather forecast\",\"parameters\":" + (weatherSchema ?? WeatherSchema) + "}},"
        + "{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"description\":\"Local time\",\"parameters\":" + TimeSchema + "}}]")!.AsArray();

    private static Dictionary<string, object?> Body(object toolChoice, bool? parallel, long seed, int n = 1, bool stream = false, int maxTokens = 400) => new()
    {
        ["model"] = ModelServer.Model,
        ["messages"] = new[] { new { role = "user", content = "What's the weather in Paris?" } },
        ["tools"] = Tools(),
        ["tool_choice"] = toolChoice,
        ["parallel_tool_calls"] = parallel,
        ["max_tokens"] = maxTokens,
        ["temperature"] = 1.0,
        ["seed"] = seed,
        ["n"] = n,
        ["stream"] = stream,
    };

    private static void AssertValidCall(string name, string arguments)
    {
        Assert.True(s_validators.TryGetValue(name, out var validator), $"unknown function '{name}'");
        using var doc = JsonDocument.Parse(arguments);
        var result = validator.Evaluate(doc.RootElement, new EvaluationOptions { RequireFormatValidation = true });
        Assert.True(result.IsValid, $"{name}({arguments}) does not validate");
    }

    [Fact]
    public async Task RequiredWithoutParallelCallsGivesExactlyOneValidCall()
    {
        var names = new HashSet<string>();
        for (var seed = 0; seed < 4; seed++)
        {
            var response = await server.PostJsonAsync("/v1/chat/completions", Body("required", parallel: false, seed, n: 3));
            foreach (var choice in response["choices"]!.AsArray())
            {
                Assert.Equal("tool_calls", (string?)choice!["finish_reason"]);
                Assert.Null((string?)choice["message"]!["content"]);
                Assert.Null(choice["message"]!["reasoning_content"]);   // thinking is off for forced calls
                var call = Assert.Single(choice["message"]!["tool_calls"]!.AsArray())!;
                Assert.Equal("function", (string?)call["type"]);
                Assert.StartsWith("call_", (string?)call["id"]);
                var name = (string)call["function"]!["name"]!;
                names.Add(name);
                AssertValidCall(name, (string)call["function"]!["arguments"]!);
            }
        }
        Assert.NotEmpty(names);
    }

    [Fact]
    public async Task ParallelCallsAreOneOrMoreValidCallsThenEos()
    {
        var counts = new List<int>();
        for (var seed = 10; seed < 14; seed++)
        {
            var body = Body("required", parallel: null, seed, n: 3, maxTokens: 1500); // room for the 8 calls the grammar allows
            // The random model prefers eos (logprob about -12) to the "\n" that opens another call (about -16); a bias
            // on "\n" (id 198) stands in for a model that means to go on.
            body["logit_bias"] = new Dictionary<string, int> { ["198"] = 7 };
            var response = await server.PostJsonAsync("/v1/chat/completions", body);
            foreach (var choice in response["choices"]!.AsArray())
            {
                Assert.Equal("tool_calls", (string?)choice!["finish_reason"]);
                var calls = choice["message"]!["tool_calls"]!.AsArray();
                Assert.InRange(calls.Count, 1, 8);
                counts.Add(calls.Count);
                Assert.Equal(calls.Count, calls.Select(c => (string?)c!["id"]).Distinct().Count());
                foreach (var call in calls) AssertValidCall((string)call!["function"]!["name"]!, (string)call["function"]!["arguments"]!);
            }
        }
        Assert.Contains(counts, c => c > 1); // the random model takes the "another call" branch sometimes
    }

    [Fact]
    public async Task ANamedFunctionIsTheOneCalled()
    {
        var choice = new { type = "function", function = new { name = "get_time" } };
        var response = await server.PostJsonAsync("/v1/chat/completions", Body(choice, parallel: true, seed: 3, n: 4));
        foreach (var c in response["choices"]!.AsArray())
            foreach (var call in c!["message"]!["tool_calls"]!.AsArray())
            {
                Assert.Equal("get_time", (string?)call!["function"]!["name"]);
                AssertValidCall("get_time", (string)call["function"]!["arguments"]!);
            }
    }

    [Fact]
    public async Task StreamedCallsStartWithIdAndNameAndTheirArgumentFragmentsReassembleToTheNonStreamedCalls()
    {
        for (var seed = 20; seed < 23; seed++)
        {
            var whole = await server.PostJsonAsync("/v1/chat/completions", Body("required", parallel: null, seed));
            var expected = whole["choices"]![0]!["message"]!["tool_calls"]!.AsArray()
                .Select(c => ((string)c!["function"]!["name"]!, (string)c["function"]!["arguments"]!)).ToList();

            using var client = server.App.Client();
            var (events, done) = await ModelServer.ReadStreamLikeDifyAsync(await client.PostAsync("/v1/chat/completions", ModelServer.Json(Body("required", null, seed, stream: true))));
            Assert.True(done);
            var choices = events.Where(e => e["choices"]!.AsArray().Count > 0).Select(e => e["choices"]![0]!).ToList();
            var deltas = choices.SelectMany(c => c["delta"]?["tool_calls"]?.AsArray() ?? []).Select(d => d!).ToList();
            var calls = new List<(string Name, List<string> Fragments)>();
            foreach (var d in deltas)
            {
                var index = (int)d["index"]!;
                if (d["id"] is not null)
                {
                    Assert.Equal(calls.Count, index);           // a call's first delta carries index, id, type and name
                    Assert.StartsWith("call_", (string?)d["id"]);
                    Assert.Equal("function", (string?)d["type"]);
                    calls.Add(((string)d["function"]!["name"]!, []));
                }
                else
                {
                    Assert.Null(d["function"]!["name"]);
                    calls[index].Fragments.Add((string)d["function"]!["arguments"]!);
                }
            }
            Assert.Equal(expected, calls.Select(c => (c.Name, string.Concat(c.Fragments))));
            Assert.All(calls, c => Assert.True(c.Fragments.Count > 1, "arguments arrive as they are generated, not in one chunk"));
            Assert.Equal("", string.Concat(choices.Select(c => (string?)c["delta"]!["content"] ?? "")));
            Assert.Equal("tool_calls", choices.Select(c => (string?)c["finish_reason"]).Last(f => f is not null));
        }
    }

    [Fact]
    public async Task AForcedCallCutOffByMaxTokensFinishesWithLength()
    {
        for (var maxTokens = 2; maxTokens <= 30; maxTokens += 7)
        {
            var response = await server.PostJsonAsync("/v1/chat/completions", Body("required", false, seed: 5, maxTokens: maxTokens));
            var choice = response["choices"]![0]!;
            Assert.Equal("length", (string?)choice["finish_reason"]);
            Assert.Equal(maxTokens, (int)response["usage"]!["completion_tokens"]!);
            // Cut inside the arguments: the call is reported with what was written (not valid JSON), as OpenAI does.
            if (choice["message"]!["tool_calls"] is JsonArray { Count: 1 } calls)
                Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse((string)calls[0]!["function"]!["arguments"]!));
        }
    }

    [Fact]
    public async Task TheOfficialSdkStreamsAForcedCall()
    {
        var chat = new ChatClient(ModelServer.Model, new ApiKeyCredential(TestApp.Key), new OpenAIClientOptions { Endpoint = new Uri(server.App.BaseAddress, "v1") });
#pragma warning disable OPENAI001 // Seed is experimental in the SDK
        var options = new ChatCompletionOptions
        {
            ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather"), AllowParallelToolCalls = false, Temperature = 1f, Seed = 8, MaxOutputTokenCount = 400,
            Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather forecast", BinaryData.FromString(WeatherSchema)), ChatTool.CreateFunctionTool("get_time", "Local time", BinaryData.FromString(TimeSchema)) },
        };
#pragma warning restore OPENAI001
        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, System.Text.StringBuilder>();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather in Paris?")], options))
        {
            foreach (var t in update.ToolCallUpdates)
            {
                if (t.ToolCallId is { } id) ids[t.Index] = id;
                if (t.FunctionName is { } name) names[t.Index] = name;
                if (t.FunctionArgumentsUpdate is { } part && !part.ToMemory().IsEmpty)
                    (arguments.TryGetValue(t.Index, out var sb) ? sb : arguments[t.Index] = new()).Append(part.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("get_weather", Assert.Single(names).Value);
        Assert.StartsWith("call_", ids[0]);
        AssertValidCall("get_weather", arguments[0].ToString());
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"x":{"type":"number","multipleOf":1e-20}}}""", "tools[0].function.parameters.properties.x.multipleOf", "multipleOf")]
    [InlineData("""{"type":"object","properties":{"x":{"type":"string","format":"uri"}}}""", "tools[0].function.parameters.properties.x.format", "format")]
    [InlineData("""{"type":"object","properties":{"x":{"type":"array","prefixItems":[{}]}}}""", "tools[0].function.parameters.properties.x.prefixItems", "prefixItems")]
    public async Task UnsupportedParameterKeywordsAnswer400NamingThem(string schema, string param, string keyword)
    {
        var body = Body("required", false, 1);
        body["tools"] = Tools(schema);
        using var client = server.App.Client();
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions", ModelServer.Json(body)));
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(param, error.Param);
        Assert.Equal("unsupported_schema", error.Code);
        Assert.Contains($"'{keyword}'", error.Message);
    }

    [Fact]
    public async Task AnAutoChoiceWithTheSameBadSchemaIsNotCompiled()
    {
        var body = Body("auto", null, 1, maxTokens: 2);
        body["tools"] = Tools("""{"type":"object","properties":{"x":{"type":"number","multipleOf":1e-20}}}""");
        await server.PostJsonAsync("/v1/chat/completions", body); // 200: auto calls are not constrained
    }

    [Theory]
    [InlineData("thinking", "chat_template_kwargs.enable_thinking")]
    [InlineData("json", "tool_choice")]
    [InlineData("unknown", "tool_choice.function.name")]
    [InlineData("bogus", "tool_choice")]
    public async Task ForcedCallsRefuseWhatTheyCannotHonour(string what, string param)
    {
        var body = Body(what switch
        {
            "unknown" => new { type = "function", function = new { name = "nope" } },
            "bogus" => "sometimes",
            _ => "required",
        }, null, 1);
        if (what == "thinking") body["chat_template_kwargs"] = new { enable_thinking = true };
        if (what == "json") body["response_format"] = new { type = "json_object" };
        using var client = server.App.Client();
        var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/chat/completions", ModelServer.Json(body)));
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(param, error.Param);
    }
}

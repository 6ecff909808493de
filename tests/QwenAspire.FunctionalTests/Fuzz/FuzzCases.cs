using System.Text;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests.Fuzz;

/// <summary>One generated request: what to send, and what kind of hostility it carries (for the histogram).</summary>
public sealed record FuzzCase(string Kind, HttpMethod Method, string Path, byte[]? Body, string? ContentType,
    IReadOnlyList<(string Name, string Value)> Headers);

/// <summary>
/// Seeded generator of malformed and hostile requests over every route: broken JSON, wrong types and extreme
/// values in every field, deep nesting, huge strings, invalid UTF-8, lone surrogates, NULs, odd roles and content
/// parts, hostile tool schemas and template kwargs, token ids out of range, path tricks in model names,
/// wrong content types and methods, duplicate and oversize headers.
/// </summary>
public sealed class FuzzCases(int seed, string model)
{
    private readonly Random _random = new(seed);

    private static readonly string[] JsonRoutes =
        ["/v1/chat/completions", "/chat/completions", "/v1/chat/completions/chat/completions", "/v1/completions", "/completions",
         "/tokenize", "/detokenize", "/v1/load_lora_adapter", "/v1/unload_lora_adapter"];

    private static readonly string[] ChatFields =
        ["model", "messages", "stream", "n", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p",
         "repetition_penalty", "presence_penalty", "frequency_penalty", "seed", "stop", "logprobs", "top_logprobs", "tools",
         "tool_choice", "stream_options", "chat_template_kwargs", "enable_thinking", "return_token_ids", "logit_bias",
         "response_format", "ignore_eos", "add_generation_prompt", "user"];

    private static readonly string[] CompletionFields =
        ["model", "prompt", "stream", "n", "max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "logprobs", "echo",
         "suffix", "best_of", "ignore_eos", "return_token_ids"];

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    public FuzzCase Next()
    {
        return _random.Next(12) switch
        {
            0 => RawBody("truncated-json", Truncate(Encode(BaseBody(Pick(JsonRoutes))))),
            1 => RawBody("garbage-bytes", RandomBytes(_random.Next(1, 400))),
            2 => RawBody("bad-unicode", BadUnicode()),
            3 => RawBody("deep-nesting", Encoding.UTF8.GetBytes(_random.Next(2) == 0 ? Nest(_random.Next(2) == 0 ? 5_000 : 70)
                : $"{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":{Nest(_random.Next(60, 3000))}}}],\"prompt\":{Nest(100)}}}")),
            4 or 5 or 6 => Json("field-mutation", Pick(JsonRoutes), MutateFields),
            7 => Json("messages", Pick(ChatRoutes()), body => body["messages"] = HostileMessages()),
            8 => Json("tools-kwargs", Pick(ChatRoutes()), HostileToolsOrKwargs),
            9 => TokenIds(),
            10 => ModelNames(),
            _ => Transport(),
        };
    }

    private static string[] ChatRoutes() => JsonRoutes[..3];

    private JsonObject BaseBody(string route) => route switch
    {
        _ when route.Contains("chat", StringComparison.Ordinal) => new JsonObject
        {
            ["model"] = model, ["max_tokens"] = 2,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        },
        _ when route.EndsWith("completions", StringComparison.Ordinal) => new JsonObject { ["model"] = model, ["max_tokens"] = 2, ["prompt"] = "hi" },
        "/tokenize" => new JsonObject { ["model"] = model, ["prompt"] = "hello" },
        "/detokenize" => new JsonObject { ["model"] = model, ["tokens"] = new JsonArray(1, 2, 3) },
        _ => new JsonObject { ["lora_name"] = "x", ["lora_path"] = "/tmp" },
    };

    private JsonNode? HostileValue() => _random.Next(22) switch
    {
        0 => null,
        1 => true,
        2 => -1,
        3 => 0,
        4 => 1e308,
        5 => -1e308,
        6 => long.MaxValue,
        7 => int.MinValue,
        8 => JsonNode.Parse("123456789012345678901234567890"),
        9 => 1.5,
        10 => "",
        11 => "\u0000nul\u0000",
        12 => new string('x', _random.Next(1, 50_000)),
        13 => new JsonArray(),
        14 => new JsonObject(),
        15 => new JsonArray(1, "a", null, new JsonObject()),
        16 => JsonNode.Parse(Nest(40)),
        17 => "NaN",
        18 => new JsonArray([.. Enumerable.Range(0, 5000).Select(i => (JsonNode?)$"s{i}")]),
        // Large but valid lengths (max_tokens 100000) are legitimate expensive work, not hostile input: the load
        // tests cover them. Here the big numbers are out of range or out of type.
        19 => 50_000_000_000,
        20 => _random.Next(2) == 0 ? 2 : 64,
        _ => "12",
    };

    private void MutateFields(JsonObject body)
    {
        var fields = body.ContainsKey("messages") ? ChatFields : body.ContainsKey("prompt") && body.ContainsKey("max_tokens") ? CompletionFields
            : [.. body.Select(p => p.Key), "model", "prompt", "tokens", "messages", "lora_name", "lora_path"];
        for (int i = _random.Next(1, 4); i > 0; i--)
        {
            string field = _random.Next(10) == 0 ? "unknown_" + _random.Next(1000) : Pick(fields);
            if (_random.Next(8) == 0) body.Remove(field);
            else body[field] = HostileValue();
        }
    }

    private JsonArray HostileMessages()
    {
        var messages = new JsonArray();
        for (int i = _random.Next(0, 4); i >= 0; i--)
        {
            var message = new JsonObject
            {
                ["role"] = Pick<JsonNode?>(["user", "system", "assistant", "tool", "function", "developer", "", "ROOT", 123, null, new JsonArray()]),
            };
            message["content"] = _random.Next(7) switch
            {
                0 => null,
                1 => new JsonArray(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "file:///etc/passwd" } }),
                2 => new JsonArray(new JsonObject { ["type"] = "text" }, new JsonObject { ["type"] = "text", ["text"] = 5 }),
                3 => new JsonArray("bare string part", 7, null),
                4 => "{{ raise_exception('x') }}{% for x in range(999999999) %}",
                5 => HostileValue(),
                _ => "ordinary",
            };
            if (_random.Next(4) == 0)
                message["tool_calls"] = Pick<JsonNode?>([new JsonArray(new JsonObject { ["function"] = new JsonObject { ["name"] = 1, ["arguments"] = "{bad" } }),
                    "not a list", new JsonArray(null, 1)]);
            if (_random.Next(6) == 0) message["name"] = HostileValue();
            messages.Add(message);
        }
        return messages;
    }

    private void HostileToolsOrKwargs(JsonObject body)
    {
        if (_random.Next(2) == 0)
        {
            var parameters = _random.Next(4) switch
            {
                0 => JsonNode.Parse(Nest(30).Replace("[", "{\"a\":", StringComparison.Ordinal).Replace("]", "}", StringComparison.Ordinal).Replace("{\"a\":}", "{}", StringComparison.Ordinal)),
                1 => new JsonObject { ["$ref"] = "#", ["type"] = "object" },
                2 => new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["e"] = new JsonObject { ["enum"] = new JsonArray([.. Enumerable.Range(0, 3000).Select(i => (JsonNode?)i)]) } } },
                _ => HostileValue(),
            };
            body["tools"] = Pick<JsonNode?>([
                new JsonArray(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = Pick<JsonNode?>(["f", "", "a b", new string('n', 5000), null]), ["parameters"] = parameters } }),
                new JsonArray(new JsonObject { ["type"] = "retrieval" }), new JsonArray(null, 1), "tools", HostileValue()]);
            body["tool_choice"] = Pick<JsonNode?>(["auto", "none", "required", "bogus", new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "missing" } }, 7]);
        }
        else
        {
            body["chat_template_kwargs"] = Pick<JsonNode?>([
                new JsonObject { ["enable_thinking"] = "yes" }, new JsonObject { ["tools"] = "x", ["messages"] = 5 },
                new JsonObject { ["__class__"] = new JsonObject(), ["add_generation_prompt"] = new JsonArray() },
                new JsonObject { ["k"] = new string('k', 100_000) }, JsonNode.Parse(Nest(40)), "str", 1]);
        }
    }

    private FuzzCase TokenIds()
    {
        JsonNode? ids = Pick<JsonNode?>([new JsonArray(-1), new JsonArray(int.MaxValue), new JsonArray(151_936, 1), new JsonArray(1e9),
            new JsonArray(1.5), new JsonArray(), new JsonArray(new JsonArray()), new JsonArray(new JsonArray(-5, 3), new JsonArray(99_999_999)),
            new JsonArray("a", 1), new JsonArray([.. Enumerable.Range(0, 20_000).Select(i => (JsonNode?)(i % 100))])]);
        return _random.Next(2) == 0
            ? Json("token-ids", "/v1/completions", body => body["prompt"] = ids)
            : Json("token-ids", "/detokenize", body => body["tokens"] = ids);
    }

    private FuzzCase ModelNames()
    {
        string name = Pick(["../../etc/passwd", model + "/../x", "%2e%2e%2f", "", " " + model, model.ToUpperInvariant(), new string('m', 10_000),
            "\u0000", "C:\\Windows\\system32", "/proc/self/environ", "qwen3-demo\u202e", "*"]);
        return _random.Next(3) switch
        {
            0 => new FuzzCase("model-name", HttpMethod.Get, "/v1/models/" + Uri.EscapeDataString(name), null, null, []),
            1 => new FuzzCase("model-name", HttpMethod.Get, "/v1/models/" + Pick(["..%2F..%2Fetc%2Fpasswd", "%00", "a/b/c", "..", "%ZZ"]), null, null, []),
            _ => Json("model-name", Pick(JsonRoutes[..7]), body => body["model"] = name),
        };
    }

    private FuzzCase Transport()
    {
        string route = Pick(JsonRoutes);
        byte[] body = Encode(BaseBody(route));
        return _random.Next(6) switch
        {
            0 => new FuzzCase("content-type", HttpMethod.Post, route, body, Pick(["text/plain", "multipart/form-data; boundary=x", "application/xml",
                "application/json; charset=latin1", "application/x-www-form-urlencoded", "*/*"]), []),
            1 => new FuzzCase("method", Pick([HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch]), route, null, null, []),
            2 => new FuzzCase("headers", HttpMethod.Post, route, body, "application/json",
                [("Authorization", "Bearer " + TestApp.Key), ("Authorization", "Bearer sk-other"), ("x-api-key", "")]),
            3 => new FuzzCase("headers", HttpMethod.Post, route, body, "application/json", [("X-Big", new string('h', _random.Next(2) == 0 ? 40_000 : 8_000))]),
            4 => new FuzzCase("unknown-route", Pick([HttpMethod.Get, HttpMethod.Post]), Pick(["/v2/chat", "/v1/../../etc/passwd", "/%00", "/v1/models/", "/metrics", "/health", "/scalar/x"]), null, null, []),
            _ => new FuzzCase("headers", HttpMethod.Post, route, body, "application/json", [("Accept", "\u0001weird"), ("Content-Encoding", "gzip")]),
        };
    }

    private FuzzCase Json(string kind, string route, Action<JsonObject> mutate)
    {
        var body = BaseBody(route);
        mutate(body);
        return new FuzzCase(kind, HttpMethod.Post, route, Encode(body), "application/json", []);
    }

    private FuzzCase RawBody(string kind, byte[] body) => new(kind, HttpMethod.Post, Pick(JsonRoutes), body, "application/json", []);

    private static byte[] Encode(JsonNode body) => Encoding.UTF8.GetBytes(body.ToJsonString());

    private byte[] Truncate(byte[] json) => json[..Math.Max(0, _random.Next(json.Length))];

    private byte[] RandomBytes(int n)
    {
        var bytes = new byte[n];
        _random.NextBytes(bytes);
        return bytes;
    }

    private byte[] BadUnicode()
    {
        string json = $"{{\"model\":\"{model}\",\"max_tokens\":2,\"messages\":[{{\"role\":\"user\",\"content\":\"a@b\"}}],\"prompt\":\"p@q\",\"lora_name\":\"l@\"}}";
        string bad = Pick(["\\ud800", "\\udc00", "\\ud800\\u0041", "\\u0000", "\\uZZZZ", "\\"]);
        var bytes = Encoding.UTF8.GetBytes(json.Replace("@", _random.Next(2) == 0 ? bad : "\u0001", StringComparison.Ordinal)).ToList();
        if (_random.Next(2) == 0) bytes.Insert(_random.Next(bytes.Count), Pick<byte>([0xFF, 0xC0, 0x80, 0xED, 0x00]));
        return [.. bytes];
    }

    private static string Nest(int depth) => new string('[', depth) + new string(']', depth);
}

using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests;

/// <summary>/tokenize renders the reference conversations exactly as transformers does, and tokenizes them as HF tokenizers does.</summary>
[Collection(ModelCollection.Name)]
public sealed class TokenizeTests(ModelServer server)
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var line in File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData/qwen3/template_cases.jsonl")).Split('\n'))
            if (line.Length > 0) data.Add((string)JsonNode.Parse(line)!["name"]!);
        return data;
    }

    private static JsonObject Find(string file, string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData/qwen3", file)).Split('\n')
            .Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).Single(o => (string?)o["name"] == name);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task TokenizeRendersReferenceConversationExactly(string name)
    {
        var c = Find("template_cases.jsonl", name);
        var body = new JsonObject
        {
            ["model"] = ModelServer.Model,
            ["messages"] = c["messages"]!.DeepClone(),
            ["add_generation_prompt"] = c["add_generation_prompt"]!.DeepClone(),
        };
        if (c["tools"] is JsonArray tools) body["tools"] = tools.DeepClone();
        if (c["enable_thinking"] is { } thinking) body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = thinking.DeepClone() };

        var r = await server.PostJsonAsync("/tokenize", body.ToJsonString());
        Assert.Equal((string?)c["rendered"], (string?)r["prompt"]);
        var expectedIds = Find("template_ids.jsonl", name)["ids"]!.AsArray().Select(n => (int)n!).ToArray();
        Assert.Equal(expectedIds, r["tokens"]!.AsArray().Select(n => (int)n!).ToArray());
        Assert.Equal(expectedIds.Length, (int)r["count"]!);
    }
}

using System.Text.Json.Nodes;
using QwenAspire.Text.Templating;

namespace QwenAspire.UnitTests.Templating;

public sealed class ChatTemplateLoadingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qa-chat-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string file, string text) => File.WriteAllText(Path.Combine(_dir, file), text);

    private static JsonArray OneUserMessage() => [new JsonObject { ["role"] = "user", ["content"] = "hi" }];

    [Fact]
    public void SpecialTokensMayBeAddedTokenObjects()
    {
        Write("tokenizer_config.json", """{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "unk_token": null, "chat_template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}{{ unk_token is defined }}"}""");
        Assert.Equal("<s>hi</s>False", ChatTemplate.FromModelDirectory(_dir).Render(OneUserMessage(), null, false));
    }

    [Fact]
    public void NamedTemplateListUsesDefaultAndToolUseWhenToolsAreGiven()
    {
        Write("tokenizer_config.json", """{"chat_template": [{"name": "default", "template": "plain"}, {"name": "tool_use", "template": "tools:{{ tools | length }}"}]}""");
        var t = ChatTemplate.FromModelDirectory(_dir);
        Assert.Equal("plain", t.Render(OneUserMessage(), null, false));
        Assert.Equal("tools:1", t.Render(OneUserMessage(), [new JsonObject { ["name"] = "f" }], false));
    }

    [Fact]
    public void ChatTemplateJinjaFileWinsOverTokenizerConfig()
    {
        Write("tokenizer_config.json", """{"chat_template": "from config"}""");
        Write("chat_template.jinja", "from file {{ add_generation_prompt }}\n");
        Assert.Equal("from file True", ChatTemplate.FromModelDirectory(_dir).Render(OneUserMessage(), null, true));
    }

    [Fact]
    public void KwargsBecomeTemplateVariables()
    {
        Write("chat_template.jinja", "{{ enable_thinking }} {{ custom.x }}");
        var kwargs = new Dictionary<string, JsonNode?> { ["enable_thinking"] = false, ["custom"] = new JsonObject { ["x"] = 1.5 } };
        Assert.Equal("False 1.5", ChatTemplate.FromModelDirectory(_dir).Render(OneUserMessage(), null, false, kwargs));
    }

    [Fact]
    public void CheckpointWithoutTemplateFallsBackToQwenChatML()
    {
        Write("tokenizer_config.json", """{"eos_token": "<|im_end|>"}""");
        var t = ChatTemplate.FromModelDirectory(_dir);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", t.Render(OneUserMessage(), null, true));
    }

    [Fact]
    public void BrokenTemplateFailsAtLoadNamingTheFile()
    {
        Write("tokenizer_config.json", """{"chat_template": "{% for m in messages %}"}""");
        var e = Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.FromModelDirectory(_dir));
        Assert.Contains("tokenizer_config.json:chat_template", e.Message);
    }

    [Fact]
    public void MalformedConfigNamesTheFileAndField()
    {
        Write("tokenizer_config.json", "{not json");
        Assert.Contains("tokenizer_config.json", Assert.Throws<InvalidDataException>(() => ChatTemplate.FromModelDirectory(_dir)).Message);
        Write("tokenizer_config.json", """{"chat_template": 5}""");
        Assert.Contains("'chat_template'", Assert.Throws<InvalidDataException>(() => ChatTemplate.FromModelDirectory(_dir)).Message);
    }
}

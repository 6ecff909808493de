using System.Text.Json.Nodes;
using QwenAspire.Text.Assets;
using QwenAspire.Text.Templating;

namespace QwenAspire.UnitTests.Templating;

/// <summary>The reference renderings of the Qwen3 template (Jinja2 3.1.6 with transformers' settings).</summary>
public sealed class Qwen3TemplateCasesTests
{
    private static readonly string[] CasesFile = ["qwen3", "template_cases.jsonl"];
    private static readonly Lazy<ChatTemplate> Current = new(ChatTemplate.FromEmbeddedQwen3);
    private static readonly Lazy<ChatTemplate> April2025 = new(() => ChatTemplate.FromSource(
        File.ReadAllText(TestFiles.PathOf("qwen3", "chat_template_2025_04.jinja")),
        new Dictionary<string, string> { ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>" },
        "chat_template_2025_04.jinja"));

    public static TheoryData<string> CaseNames => TestFiles.Names(CasesFile);

    private static string Render(ChatTemplate template, JsonObject c)
    {
        var kwargs = new Dictionary<string, JsonNode?>();
        if (c.ContainsKey("enable_thinking")) kwargs["enable_thinking"] = c["enable_thinking"]?.DeepClone();
        return template.Render(
            (JsonArray)c["messages"]!.DeepClone(),
            c["tools"]?.DeepClone() as JsonArray,
            (bool)c["add_generation_prompt"]!,
            kwargs);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void CurrentTemplateRendersEveryCaseByteForByte(string name)
    {
        var c = TestFiles.Case(name, CasesFile);
        Assert.Equal((string)c["rendered"]!, Render(Current.Value, c));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void April2025TemplateRendersTheSameOrRaisesOnNullContent(string name)
    {
        var c = TestFiles.Case(name, CasesFile);
        if ((bool)c["same_with_2025_04_template"]!)
        {
            Assert.Equal((string)c["rendered"]!, Render(April2025.Value, c));
            return;
        }
        var error = Assert.Throws<TemplateRuntimeException>(() => Render(April2025.Value, c));
        string python = (string)c["error_2025_04_template"]!; // "TypeError: argument of type 'NoneType' is not iterable"
        Assert.Equal(python[(python.IndexOf(": ", StringComparison.Ordinal) + 2)..], error.Reason);
        Assert.True(error.Line > 0 && error.Column > 0);
    }

    [Fact]
    public void CheckpointDirectoryWithTokenizerConfigRendersLikeTheEmbeddedTemplate()
    {
        string dir = Directory.CreateTempSubdirectory("qa-tpl-").FullName;
        try
        {
            using (var src = Qwen3Assets.OpenRead(Qwen3Assets.TokenizerConfigJson))
            using (var dst = File.Create(Path.Combine(dir, "tokenizer_config.json")))
                src.CopyTo(dst);
            var fromDir = ChatTemplate.FromModelDirectory(dir);
            Assert.Equal("<|im_end|>", fromDir.SpecialTokens["eos_token"]);
            Assert.False(fromDir.SpecialTokens.ContainsKey("bos_token"));
            foreach (var c in TestFiles.ReadJsonl(CasesFile))
                Assert.Equal((string)c["rendered"]!, Render(fromDir, c));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

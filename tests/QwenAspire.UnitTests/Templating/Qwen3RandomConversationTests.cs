using System.Text.Json.Nodes;
using QwenAspire.Text.Templating;

namespace QwenAspire.UnitTests.Templating;

/// <summary>
/// 200 seeded random conversations (null/list/string content, reasoning_content, tool calls with dict or
/// string arguments, odd unicode and floats) rendered by Python Jinja2 with both Qwen3 templates
/// (Oracle/make_qwen3_random_cases.py). Same text, or the same error, for every one.
/// </summary>
public sealed class Qwen3RandomConversationTests
{
    private static readonly string[] CasesFile = ["jinja", "qwen3_random_cases.jsonl"];
    private static readonly Dictionary<string, string> Special = new() { ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>" };

    private static readonly Lazy<ChatTemplate> Current = new(ChatTemplate.FromEmbeddedQwen3);
    private static readonly Lazy<ChatTemplate> April2025 = new(() =>
        ChatTemplate.FromSource(File.ReadAllText(TestFiles.PathOf("qwen3", "chat_template_2025_04.jinja")), Special, "chat_template_2025_04.jinja"));

    [Theory]
    [InlineData("current")]
    [InlineData("2025_04")]
    public void EveryRandomConversationMatchesPythonJinja(string which)
    {
        var template = which == "current" ? Current.Value : April2025.Value;
        var failures = new List<string>();
        int checkedCases = 0;
        foreach (var c in TestFiles.ReadJsonl(CasesFile))
        {
            checkedCases++;
            var kwargs = new Dictionary<string, JsonNode?>();
            if (c.ContainsKey("enable_thinking")) kwargs["enable_thinking"] = c["enable_thinking"]?.DeepClone();
            string? expected = (string?)c["rendered_" + which];
            string? error = (string?)c["error_" + which];
            try
            {
                string actual = template.Render((JsonArray)c["messages"]!.DeepClone(), c["tools"]?.DeepClone() as JsonArray, (bool)c["add_generation_prompt"]!, kwargs);
                if (actual != expected) failures.Add($"{c["name"]}: rendered differently{(error != null ? $" (Python raised {error})" : "")}");
            }
            catch (TemplateRuntimeException e)
            {
                string? pythonReason = error?[(error.IndexOf(": ", StringComparison.Ordinal) + 2)..];
                if (e.Reason != pythonReason) failures.Add($"{c["name"]}: we raised '{e.Reason}', Python {(error ?? "rendered")}");
            }
        }
        Assert.Equal(200, checkedCases);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}

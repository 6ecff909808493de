using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.Text.Assets;

namespace QwenAspire.Text.Templating;

/// <summary>
/// A checkpoint's chat template(s), compiled once, plus its special tokens; renders a chat request into the
/// exact prompt text transformers' <c>apply_chat_template(..., tokenize=False)</c> produces.
/// </summary>
public sealed class ChatTemplate
{
    private const string DefaultName = "default";
    private const string ToolUseName = "tool_use";
    private static readonly string[] SpecialTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private readonly IReadOnlyDictionary<string, JinjaTemplate> _templates;

    private ChatTemplate(IReadOnlyDictionary<string, JinjaTemplate> templates, IReadOnlyDictionary<string, object?> specialTokens, string source)
    {
        _templates = templates;
        SpecialTokens = specialTokens;
        Source = source;
    }

    /// <summary>Variables every render gets: <c>bos_token</c>, <c>eos_token</c>, … as configured (absent ones stay undefined).</summary>
    public IReadOnlyDictionary<string, object?> SpecialTokens { get; }

    /// <summary>Where the template came from (for logs): a file path or "embedded Qwen3".</summary>
    public string Source { get; }

    /// <summary>Names of the available templates ("default", and e.g. "tool_use").</summary>
    public IReadOnlyCollection<string> TemplateNames => (IReadOnlyCollection<string>)_templates.Keys;

    /// <summary>
    /// Loads from a Hugging Face checkpoint folder: <c>chat_template.jinja</c> when present (it wins, as in
    /// transformers), else <c>tokenizer_config.json</c>'s <c>chat_template</c> (a string or a list of
    /// <c>{name, template}</c>); with neither, the embedded Qwen3 ChatML template. Special tokens come from
    /// tokenizer_config.json. Every template is compiled here, so a broken one fails at start-up.
    /// </summary>
    public static ChatTemplate FromModelDirectory(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model directory '{directory}' does not exist.");
        string configPath = Path.Combine(directory, "tokenizer_config.json");
        JsonObject? config = File.Exists(configPath) ? ReadConfig(configPath) : null;
        var special = config != null ? ReadSpecialTokens(config, configPath) : new Dictionary<string, object?>();

        string jinjaPath = Path.Combine(directory, "chat_template.jinja");
        if (File.Exists(jinjaPath))
            return new(Compile([(DefaultName, File.ReadAllText(jinjaPath))], jinjaPath), special, jinjaPath);
        if (config?["chat_template"] is { } node)
            return new(Compile(ReadTemplates(node, configPath), configPath + ":chat_template"), special, configPath);
        return new(Compile([(DefaultName, ReadEmbedded(Qwen3Assets.ChatTemplateJinja))], "embedded Qwen3 chat_template.jinja"), special,
            $"embedded Qwen3 ChatML template (no template in '{directory}')");
    }

    /// <summary>The real Qwen3 template and special tokens embedded in this assembly.</summary>
    public static ChatTemplate FromEmbeddedQwen3()
    {
        var config = JsonNode.Parse(ReadEmbedded(Qwen3Assets.TokenizerConfigJson))!.AsObject();
        var templates = Compile([(DefaultName, ReadEmbedded(Qwen3Assets.ChatTemplateJinja))], "embedded Qwen3 chat_template.jinja");
        return new(templates, ReadSpecialTokens(config, "embedded tokenizer_config.json"), "embedded Qwen3");
    }

    /// <summary>A template given as text (tests, configuration overrides).</summary>
    public static ChatTemplate FromSource(string template, IReadOnlyDictionary<string, string>? specialTokens = null, string? name = null)
    {
        var special = specialTokens?.ToDictionary(kv => kv.Key, kv => (object?)kv.Value) ?? [];
        return new(Compile([(DefaultName, template)], name), special, name ?? "<string>");
    }

    /// <summary>
    /// Renders the prompt. <paramref name="tools"/> null means the template sees <c>tools = None</c>;
    /// <paramref name="kwargs"/> (chat_template_kwargs such as <c>enable_thinking</c>) become template variables.
    /// </summary>
    public string Render(JsonArray messages, JsonArray? tools, bool addGenerationPrompt, IReadOnlyDictionary<string, JsonNode?>? kwargs = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var template = tools != null && _templates.TryGetValue(ToolUseName, out var toolUse) ? toolUse
            : _templates.TryGetValue(DefaultName, out var d) ? d
            : throw new InvalidOperationException($"No '{DefaultName}' chat template among: {string.Join(", ", _templates.Keys)}.");
        var vars = new Dictionary<string, object?>(SpecialTokens, StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["tools"] = tools,
            ["documents"] = null,
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        if (kwargs != null)
            foreach (var kv in kwargs) vars[kv.Key] = kv.Value;
        return template.Render(vars);
    }

    private static Dictionary<string, JinjaTemplate> Compile(IEnumerable<(string Name, string Text)> sources, string? origin)
    {
        var result = new Dictionary<string, JinjaTemplate>(StringComparer.Ordinal);
        foreach (var (name, text) in sources)
            result[name] = JinjaTemplate.Parse(text, name == DefaultName ? origin : $"{origin}[{name}]");
        return result;
    }

    private static JsonObject ReadConfig(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"'{path}' must hold a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static List<(string, string)> ReadTemplates(JsonNode node, string path)
    {
        if (node is JsonValue v && v.TryGetValue(out string? single)) return [(DefaultName, single)];
        if (node is not JsonArray list) throw new InvalidDataException($"'{path}': field 'chat_template' must be a string or a list of {{name, template}} objects.");
        var result = new List<(string, string)>();
        foreach (var item in list)
        {
            string? name = (item as JsonObject)?["name"]?.GetValue<string>();
            string? text = (item as JsonObject)?["template"]?.GetValue<string>();
            if (name == null || text == null) throw new InvalidDataException($"'{path}': every entry of 'chat_template' needs string fields 'name' and 'template'.");
            result.Add((name, text));
        }
        return result;
    }

    /// <summary>Special tokens may be plain strings or AddedToken objects <c>{"content": "…"}</c>; nulls are left out.</summary>
    private static Dictionary<string, object?> ReadSpecialTokens(JsonObject config, string path)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var key in SpecialTokenKeys)
        {
            var node = config[key];
            string? value = node switch
            {
                null => null,
                JsonValue v when v.TryGetValue(out string? s) => s,
                JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
                _ => throw new InvalidDataException($"'{path}': field '{key}' must be a string, null or an object with 'content'."),
            };
            if (value != null) result[key] = value;
        }
        if (config["additional_special_tokens"] is JsonArray extra)
            result["additional_special_tokens"] = extra.Select(t => t is JsonObject o ? o["content"]?.GetValue<string>() : t?.GetValue<string>()).Cast<object?>().ToList();
        return result;
    }

    private static string ReadEmbedded(string file)
    {
        using var reader = new StreamReader(Qwen3Assets.OpenRead(file));
        return reader.ReadToEnd();
    }
}

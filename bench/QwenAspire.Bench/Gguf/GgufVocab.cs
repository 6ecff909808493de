using System.Text.Json.Nodes;

namespace QwenAspire.Bench.Gguf;

/// <summary>
/// The tokenizer metadata llama.cpp's converter writes for Qwen2/Qwen3 (gpt2-type byte-level BPE,
/// pre-tokenizer "qwen2"), read from an HF folder's tokenizer.json and tokenizer_config.json. The token
/// list is padded to the model's vocab_size with "[PAD{i}]" entries of type UNUSED, as the converter does,
/// because llama.cpp requires one token per embedding row.
/// </summary>
internal static class GgufVocab
{
    // llama_token_type: NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6.
    private const int Normal = 1, Control = 3, UserDefined = 4, Unused = 5;

    public static void AddTo(GgufWriter gguf, string modelDir, int vocabSize, int? bosTokenId)
    {
        var tokenizer = ReadJson(modelDir, "tokenizer.json");
        var config = ReadJson(modelDir, "tokenizer_config.json");
        var model = tokenizer["model"] as JsonObject ?? throw Bad(modelDir, "tokenizer.json has no 'model' object.");
        if ((string?)model["type"] != "BPE") throw Bad(modelDir, $"tokenizer.json model type is '{(string?)model["type"]}', expected BPE.");

        var tokens = new string?[vocabSize];
        var types = new int[vocabSize];
        foreach (var (text, id) in model["vocab"] as JsonObject ?? throw Bad(modelDir, "tokenizer.json has no model.vocab."))
            Place(modelDir, tokens, types, id!.GetValue<int>(), text, Normal);
        var byText = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var added in tokenizer["added_tokens"] as JsonArray ?? [])
        {
            int id = added!["id"]!.GetValue<int>();
            string text = (string)added["content"]!;
            // The converter marks special tokens, and ones that look special (<|...|>), as CONTROL; the rest
            // (<think>, <tool_call>) are USER_DEFINED so llama.cpp still matches them as whole tokens.
            bool control = (bool?)added["special"] == true || (text.StartsWith("<|", StringComparison.Ordinal) && text.EndsWith("|>", StringComparison.Ordinal));
            Place(modelDir, tokens, types, id, text, control ? Control : UserDefined, overwrite: true);
            byText[text] = id;
        }
        for (int i = 0; i < vocabSize; i++)
        {
            if (tokens[i] is not null) continue;
            tokens[i] = $"[PAD{i}]";
            types[i] = Unused;
        }

        var merges = (model["merges"] as JsonArray ?? throw Bad(modelDir, "tokenizer.json has no model.merges."))
            .Select(m => m switch
            {
                JsonValue v => (string)v!,                                  // older files: "a b"
                JsonArray { Count: 2 } pair => $"{(string)pair[0]!} {(string)pair[1]!}",   // newer files: ["a", "b"]
                _ => throw Bad(modelDir, $"tokenizer.json merge '{m?.ToJsonString()}' is neither \"a b\" nor [a, b]."),
            }).ToList();

        gguf.Add("tokenizer.ggml.model", "gpt2");
        gguf.Add("tokenizer.ggml.pre", "qwen2");
        gguf.Add("tokenizer.ggml.tokens", tokens!);
        gguf.Add("tokenizer.ggml.token_type", types);
        gguf.Add("tokenizer.ggml.merges", merges);
        int eos = Resolve(modelDir, config, "eos_token", byText) ?? throw Bad(modelDir, "tokenizer_config.json names no eos_token.");
        gguf.Add("tokenizer.ggml.eos_token_id", (uint)eos);
        if (Resolve(modelDir, config, "pad_token", byText) is { } pad) gguf.Add("tokenizer.ggml.padding_token_id", (uint)pad);
        if ((Resolve(modelDir, config, "bos_token", byText) ?? bosTokenId) is { } bos) gguf.Add("tokenizer.ggml.bos_token_id", (uint)bos);
        gguf.Add("tokenizer.ggml.add_bos_token", (bool?)config["add_bos_token"] ?? false);
        if (ChatTemplate(modelDir, config) is { } template) gguf.Add("tokenizer.chat_template", template);
    }

    private static void Place(string dir, string?[] tokens, int[] types, int id, string text, int type, bool overwrite = false)
    {
        if ((uint)id >= (uint)tokens.Length)
            throw Bad(dir, $"token '{text}' has id {id}, outside the model's vocab_size {tokens.Length}.");
        if (tokens[id] is not null && !overwrite) throw Bad(dir, $"id {id} is given to both '{tokens[id]}' and '{text}'.");
        tokens[id] = text;
        types[id] = type;
    }

    private static int? Resolve(string dir, JsonObject config, string key, Dictionary<string, int> byText) => config[key] switch
    {
        null => null,
        JsonValue v => byText.TryGetValue((string)v!, out int id) ? id : throw Bad(dir, $"tokenizer_config.json {key} '{(string)v!}' is not an added token."),
        JsonObject o => byText.TryGetValue((string)o["content"]!, out int id) ? id : throw Bad(dir, $"tokenizer_config.json {key} '{(string)o["content"]!}' is not an added token."),
        _ => null,
    };

    private static string? ChatTemplate(string dir, JsonObject config)
    {
        if (config["chat_template"] is JsonValue v) return (string)v!;
        var jinja = Path.Combine(dir, "chat_template.jinja");
        return File.Exists(jinja) ? File.ReadAllText(jinja) : null;
    }

    private static JsonObject ReadJson(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        if (!File.Exists(path)) throw Bad(dir, $"{name} is missing.");
        return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw Bad(dir, $"{name} is not a JSON object.");
    }

    private static InvalidDataException Bad(string dir, string message) => new($"{dir}: {message}");
}

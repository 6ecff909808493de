using System.Text.Json;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>One prompt of /v1/completions: text, or token ids given directly.</summary>
public sealed record PromptInput(string? Text, IReadOnlyList<int>? TokenIds);

public static class PromptInputParser
{
    /// <summary>Reads <c>prompt</c>: a string, a list of strings, a list of token ids, or a list of such lists.</summary>
    public static ApiError? TryParse(JsonElement? prompt, int vocabSize, out List<PromptInput> prompts)
    {
        prompts = [];
        if (prompt is not { } p || p.ValueKind == JsonValueKind.Null) return ApiError.MissingField("prompt");
        if (p.ValueKind == JsonValueKind.String)
        {
            prompts.Add(new PromptInput(p.GetString(), null));
        }
        else if (p.ValueKind == JsonValueKind.Array && p.GetArrayLength() > 0)
        {
            var first = p[0];
            if (first.ValueKind == JsonValueKind.Number)
            {
                if (ReadIds(p, vocabSize, "prompt", out var ids) is { } e) return e;
                prompts.Add(new PromptInput(null, ids));
            }
            else
            {
                int i = 0;
                foreach (var item in p.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String) prompts.Add(new PromptInput(item.GetString(), null));
                    else if (item.ValueKind == JsonValueKind.Array)
                    {
                        if (ReadIds(item, vocabSize, $"prompt[{i}]", out var ids) is { } e) return e;
                        prompts.Add(new PromptInput(null, ids));
                    }
                    else return Invalid();
                    i++;
                }
            }
        }
        else
        {
            return p.ValueKind == JsonValueKind.Array
                ? ApiError.BadRequest("'prompt' must not be empty.", "prompt")
                : Invalid();
        }
        if (prompts.Any(x => x.Text is { Length: 0 } || x.TokenIds is { Count: 0 }))
            return ApiError.BadRequest("'prompt' must not be empty.", "prompt");
        return null;
    }

    private static ApiError Invalid() =>
        ApiError.BadRequest("'prompt' must be a string, an array of strings, an array of token ids, or an array of token-id arrays.", "prompt", "invalid_type");

    private static ApiError? ReadIds(JsonElement array, int vocabSize, string param, out List<int> ids)
    {
        ids = [];
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                return ApiError.BadRequest($"'{param}' must contain only integer token ids.", param, "invalid_type");
            if (id < 0 || id >= vocabSize)
                return ApiError.BadRequest($"'{param}' has token id {id}, outside the vocabulary [0, {vocabSize}).", param);
            ids.Add(id);
        }
        return null;
    }
}

using QwenAspire.Engine.Tokenization;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// Unique, deterministic user prompts of 16–22 tokens (raw text, counted with the real Qwen3 tokenizer),
/// like the llama-server load in ANCHORS.md. Prompt n starts with its own number and topic so no two
/// requests share more than the chat template's prefix.
/// </summary>
internal sealed class ServePrompts
{
    public const int MinTokens = 16;
    public const int MaxTokens = 22;

    private static readonly string[] s_topics =
    [
        "river", "mountain", "library", "garden", "harbor", "desert", "forest", "bridge", "market", "island",
        "castle", "valley", "station", "orchard", "lighthouse", "village", "museum", "canyon", "meadow", "glacier",
    ];

    private static readonly string[] s_fillers =
    [
        "quiet", "morning", "old", "travelers", "stories", "light", "winter", "colors", "people", "history",
        "sounds", "evening", "small", "details", "weather", "paths", "ancient", "simple", "bright", "careful",
    ];

    private readonly Qwen3Tokenizer _tokenizer = Qwen3Tokenizer.LoadEmbedded();

    /// <summary>Prompt number <paramref name="n"/>; its target length cycles through 16..22 tokens.</summary>
    public (string Text, int Tokens) Get(int n)
    {
        int target = MinTokens + n % (MaxTokens - MinTokens + 1);
        var random = new Random(n);
        string text = $"Request {n}: describe the {s_topics[n % s_topics.Length]} in a few sentences, with";
        int tokens = _tokenizer.Encode(text).Length;
        // Words add one or two tokens each; stop at the target, and never leave the 16..22 window.
        while (tokens < target)
        {
            string next = text + " " + s_fillers[random.Next(s_fillers.Length)];
            int nextTokens = _tokenizer.Encode(next).Length;
            if (nextTokens > MaxTokens) break;
            (text, tokens) = (next, nextTokens);
        }
        if (tokens is < MinTokens or > MaxTokens)
            throw new InvalidOperationException($"prompt {n} has {tokens} tokens, outside {MinTokens}..{MaxTokens}: '{text}'");
        return (text, tokens);
    }
}

using QwenAspire.Text.Tokenization;

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

    private static readonly string[] s_rules =
    [
        "Answer in plain language and keep every reply short.",
        "When a question is about a place, mention its weather, its people and one detail of its history.",
        "Never invent names of real persons; say that you do not know instead.",
        "Prefer concrete examples over general statements, and explain any term a child would not know.",
        "If the question is ambiguous, state the reading you chose in one sentence before answering.",
        "Use metric units, and give numbers with at most two significant digits.",
        "Do not repeat the question back to the user, and do not apologise.",
    ];

    private readonly Qwen3Tokenizer _tokenizer = Qwen3Tokenizer.LoadEmbedded();

    /// <summary>
    /// A system prompt of about <paramref name="targetTokens"/> tokens (never fewer), shared by every request of
    /// the prefix scenario. <paramref name="nonce"/> leads it so a server's cache from an earlier run cannot make
    /// the "cold" request warm.
    /// </summary>
    public (string Text, int Tokens) SharedPrefix(int targetTokens, string nonce)
    {
        var text = new System.Text.StringBuilder($"Session {nonce}. You are a careful travel guide. Follow these rules.\n");
        int tokens = _tokenizer.Encode(text.ToString()).Length;
        for (int i = 0; tokens < targetTokens; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"Rule {i + 1}: {s_rules[i % s_rules.Length]} ");
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"This matters most for the {s_topics[i % s_topics.Length]} and the {s_fillers[i % s_fillers.Length]} {s_topics[(i * 7 + 3) % s_topics.Length]}.\n");
            tokens = _tokenizer.Encode(text.ToString()).Length;
        }
        return (text.ToString(), tokens);
    }

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

namespace QwenAspire.Engine.Generation;

/// <summary>The prompt does not leave room for a single generated token (HTTP 400, code context_length_exceeded).</summary>
public sealed class ContextLengthExceededException(int promptTokens, int maxContextLength)
    : ArgumentException(
        $"This model's maximum context length is {maxContextLength} tokens, but the prompt has {promptTokens} tokens.",
        "PromptTokens")
{
    public int PromptTokens { get; } = promptTokens;
    public int MaxContextLength { get; } = maxContextLength;
}

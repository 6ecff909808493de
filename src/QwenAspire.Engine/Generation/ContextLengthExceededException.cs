namespace QwenAspire.Engine.Generation;

/// <summary>The prompt does not leave room for a single generated token (HTTP 400, code context_length_exceeded).</summary>
public sealed class ContextLengthExceededException : ArgumentException
{
    public ContextLengthExceededException(int promptTokens, int maxContextLength)
        : this(promptTokens, maxContextLength,
            $"This model's maximum context length is {maxContextLength} tokens, but the prompt has {promptTokens} tokens.")
    {
    }

    public ContextLengthExceededException(int promptTokens, int maxContextLength, string message)
        : base(message, "PromptTokens")
    {
        PromptTokens = promptTokens;
        MaxContextLength = maxContextLength;
    }

    public int PromptTokens { get; }
    public int MaxContextLength { get; }
}

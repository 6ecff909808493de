using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>Builds the response objects of one chat request (shared id, created time, model name).</summary>
public sealed class ChatResponseFactory(string id, string model, IReadOnlyList<int>? promptTokenIds)
{
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public string Id => id;

    public bool ReturnTokenIds => promptTokenIds is not null;

    public ChatCompletionResponse Complete(IReadOnlyList<ChatChoiceState> choices, int promptTokens) => new()
    {
        Id = id,
        Created = _created,
        Model = model,
        Choices = choices.Select(c => new ChatChoice
        {
            Index = c.Index,
            Message = c.ToMessage(),
            Logprobs = c.Logprobs is null ? null : new ChatLogprobs(c.Logprobs),
            FinishReason = c.FinishReasonText,
            StopReason = c.StopReason,
            TokenIds = ReturnTokenIds ? c.TokenIds : null,
        }).ToList(),
        Usage = new UsageInfo(promptTokens, choices.Sum(c => c.CompletionTokens)),
        PromptTokenIds = promptTokenIds,
    };

    public ChatCompletionChunk Chunk(ChatChunkChoice choice, bool withPromptIds = false) => new()
    {
        Id = id,
        Created = _created,
        Model = model,
        Choices = [choice],
        PromptTokenIds = withPromptIds ? promptTokenIds : null,
    };

    /// <summary>The usage chunk after the last finish_reason: empty choices (Dify indexes the list, so it must exist).</summary>
    public ChatCompletionChunk UsageChunk(UsageInfo usage) => new()
    {
        Id = id,
        Created = _created,
        Model = model,
        Choices = [],
        Usage = usage,
    };
}

using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Streams one chat request: a role chunk per choice, then per engine step its reasoning/content/tool-call
/// deltas (with token ids and logprobs when asked), a finish chunk per choice, the usage chunk when
/// include_usage is set, then [DONE]. A failure after the first byte becomes an error event.
/// </summary>
public sealed class ChatStreamer(SseWriter sse, ChatResponseFactory response, ChatChoiceState[] choices, ILogger logger)
{
    public Task StreamAsync(GenerationRun run, int promptTokens, bool includeUsage, CancellationToken ct) =>
        sse.StreamAsync(async token =>
        {
            foreach (var choice in choices)
                await sse.WriteAsync(response.Chunk(new ChatChunkChoice { Index = choice.Index, Delta = new ChatDelta { Role = "assistant", Content = "" } },
                    withPromptIds: choice.Index == 0), token);

            await foreach (var (index, output) in run.ReadAllAsync(token))
                await WriteStepAsync(choices[index], output, token);

            if (includeUsage)
                await sse.WriteAsync(response.UsageChunk(new UsageInfo(promptTokens, choices.Sum(c => c.CompletionTokens))), token);
        }, response.Id, logger, ct);

    private async Task WriteStepAsync(ChatChoiceState choice, GenerationOutput output, CancellationToken ct)
    {
        var deltas = choice.Apply(output);
        bool withIds = response.ReturnTokenIds && output.TokenId is not null;
        var logprobs = output.Logprob is not null && choice.Logprobs is { Count: > 0 } all ? new ChatLogprobs([all[^1]]) : null;

        // Token ids and logprobs ride on the first delta of the step (or an empty delta if the text is held back).
        if (deltas.Count == 0 && (withIds || logprobs is not null))
            deltas = [new ChatDelta()];
        for (int i = 0; i < deltas.Count; i++)
            await sse.WriteAsync(response.Chunk(new ChatChunkChoice
            {
                Index = choice.Index,
                Delta = deltas[i],
                Logprobs = i == 0 ? logprobs : null,
                TokenIds = i == 0 && withIds ? [output.TokenId!.Value] : null,
            }), ct);

        if (output.Finish is not null)
            await sse.WriteAsync(response.Chunk(new ChatChunkChoice
            {
                Index = choice.Index,
                Delta = new ChatDelta(),
                FinishReason = choice.FinishReasonText,
                StopReason = choice.StopReason,
            }), ct);
    }
}

using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>Builds the response objects of one /v1/completions request (shared id, created time, model name).</summary>
public sealed class CompletionResponseFactory(PreparedGeneration prepared, bool returnTokenIds)
{
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public string Id => prepared.Id;
    public bool ReturnTokenIds => returnTokenIds;

    public IReadOnlyList<int>? PromptIdsOf(CompletionChoiceState c) => returnTokenIds ? prepared.PromptIds[c.PromptIndex] : null;

    public CompletionResponse Envelope(IReadOnlyList<CompletionChoice> choices, UsageInfo? usage = null) =>
        new() { Id = prepared.Id, Created = _created, Model = prepared.ModelName, Choices = choices, Usage = usage };

    public UsageInfo Usage(IReadOnlyList<CompletionChoiceState> choices) => new(prepared.PromptTokens, choices.Sum(c => c.CompletionTokens));

    public CompletionResponse Complete(IReadOnlyList<CompletionChoiceState> choices) => Envelope(choices.Select(c => new CompletionChoice
    {
        Index = c.Index,
        Text = c.Text,
        Logprobs = c.Logprobs,
        FinishReason = c.FinishReasonText,
        StopReason = c.StopReason,
        PromptTokenIds = PromptIdsOf(c),
        TokenIds = returnTokenIds ? c.TokenIds : null,
    }).ToList(), Usage(choices));
}

/// <summary>
/// Streams one /v1/completions request: the echoed prompt (or its token ids) per choice first, then one event
/// per step that has text, logprobs, a finish or a token id to show, the usage event when include_usage is set,
/// then [DONE]. With echo and logprobs a choice's echoed prompt waits for the engine's prompt logprobs and goes out
/// with them in that choice's first chunk. A failure after the first byte becomes an error event.
/// </summary>
/// <param name="promptLogprobs">echo with logprobs: the engine sends prompt logprobs before the first token.</param>
public sealed class CompletionStreamer(SseWriter sse, CompletionResponseFactory response, IReadOnlyList<CompletionChoiceState> choices,
    bool promptLogprobs, ILogger logger)
{
    public Task StreamAsync(GenerationRun run, bool includeUsage, CancellationToken ct) =>
        sse.StreamAsync(async token =>
        {
            bool returnIds = response.ReturnTokenIds;
            foreach (var c in choices.Where(c => !promptLogprobs && (c.Text.Length > 0 || returnIds)))
                await sse.WriteAsync(response.Envelope([new CompletionChoice { Index = c.Index, Text = c.Text, PromptTokenIds = response.PromptIdsOf(c) }]), token);
            await foreach (var (index, output) in run.ReadAllAsync(token))
            {
                var c = choices[index];
                var logprobs = c.Apply(output);
                if (output.PromptLogprobs is not null)
                {
                    await sse.WriteAsync(response.Envelope([new CompletionChoice { Index = index, Text = c.Echo + output.TextDelta, Logprobs = logprobs,
                        FinishReason = c.FinishReasonText, StopReason = c.StopReason, PromptTokenIds = response.PromptIdsOf(c) }]), token);
                    continue;
                }
                if (output.TextDelta.Length > 0 || logprobs is not null || output.Finish is not null || (returnIds && output.TokenId is not null))
                    await sse.WriteAsync(response.Envelope([new CompletionChoice { Index = index, Text = output.TextDelta, Logprobs = logprobs,
                        FinishReason = c.FinishReasonText, StopReason = c.StopReason,
                        TokenIds = returnIds && output.TokenId is { } t ? [t] : null }]), token);
            }
            if (includeUsage)
                await sse.WriteAsync(response.Envelope([], response.Usage(choices)), token);
        }, response.Id, logger, ct);
}

using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using QwenAspire.Engine.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Hosting;
using QwenAspire.InferenceApi.Serving;
using QwenAspire.Sdk;

namespace QwenAspire.FunctionalTests.Sdk;

/// <summary>
/// The SDK's <see cref="IChatClient"/> against the real InferenceApi on loopback (demo model, random weights):
/// structure, finish reasons, usage, determinism and cancellation, never the text's meaning.
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class SdkChatClientLiveTests(ModelServer server)
{
    private const int MaxTokens = 6;

    /// <summary>Greedy, no thinking block, exactly <see cref="MaxTokens"/> tokens (ignore_eos), token ids returned.</summary>
    internal static ChatOptions Greedy(int maxTokens = MaxTokens) => new()
    {
        MaxOutputTokens = maxTokens,
        Temperature = 0,
        AdditionalProperties = new() { ["ignore_eos"] = true, ["enable_thinking"] = false, ["return_token_ids"] = true },
    };

    internal static QwenChatClient Client(TestApp app) =>
        new(new QwenClientOptions { Endpoint = app.BaseAddress, ApiKey = TestApp.Key, Timeout = TimeSpan.FromMinutes(2) });

    /// <summary>The generated ids (<c>return_token_ids</c>), which the SDK puts on the message.</summary>
    private static int[] TokenIds(ChatResponse response) =>
        Assert.IsType<int[]>(Assert.Single(response.Messages).AdditionalProperties?["token_ids"]);

    private static string Reasoning(IEnumerable<AIContent> contents) =>
        string.Concat(contents.OfType<TextReasoningContent>().Select(r => r.Text));

    [Fact]
    public async Task GetResponseReportsFinishReasonUsageAndIsDeterministicAtTemperatureZero()
    {
        using var client = Client(server.App);

        var first = await client.GetResponseAsync("请推荐适合经常口臭的中药", Greedy());
        var second = await client.GetResponseAsync("请推荐适合经常口臭的中药", Greedy());

        Assert.Equal(ModelServer.Model, first.ModelId);   // resolved from GET /v1/models: the options name none
        Assert.StartsWith("chatcmpl-", first.ResponseId);
        Assert.Equal(ChatFinishReason.Length, first.FinishReason);
        Assert.Equal(ChatRole.Assistant, Assert.Single(first.Messages).Role);
        Assert.Equal(MaxTokens, first.Usage?.OutputTokenCount);
        Assert.True(first.Usage?.InputTokenCount > 0);
        Assert.Equal(first.Usage!.InputTokenCount + first.Usage.OutputTokenCount, first.Usage.TotalTokenCount);
        var ids = TokenIds(first);
        Assert.Equal(MaxTokens, ids.Length);
        Assert.Equal(ids, TokenIds(second));
        Assert.Equal(first.Usage.InputTokenCount, ((int[])first.AdditionalProperties!["prompt_token_ids"]!).Length);
        Assert.Equal(first.Text, second.Text);
        Assert.Equal(Reasoning(first.Messages[0].Contents), Reasoning(second.Messages[0].Contents));
        Assert.NotEqual(first.ResponseId, second.ResponseId);
    }

    [Fact]
    public async Task TheSameSeedSamplesTheSameTokensAndAnotherSeedOthers()
    {
        using var client = Client(server.App);
        ChatOptions Sampled(long seed)
        {
            var o = Greedy(maxTokens: 8);
            o.Temperature = 1;
            o.TopP = 1;
            o.Seed = seed;
            return o;
        }
        async Task<int[]> IdsAsync(long seed) =>
            TokenIds(await client.GetResponseAsync("hello", Sampled(seed)));

        var a = await IdsAsync(42);
        var b = await IdsAsync(42);
        var c = await IdsAsync(43);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);   // 8 draws from a near-uniform 151k vocabulary: equal only by a miracle
    }

    [Fact]
    public async Task StreamingDeliversTheSameAnswerIncrementallyWithUsage()
    {
        using var client = Client(server.App);
        var whole = await client.GetResponseAsync("Say hello.", Greedy());

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Say hello.", Greedy()))
            updates.Add(update);
        var streamed = updates.ToChatResponse();

        Assert.True(updates.Count(u => u.Contents.Any(c => c is TextContent or TextReasoningContent)) > 1, "one update per token, not one blob");
        Assert.All(updates.Where(u => u.ResponseId is not null), u => Assert.Equal(updates[0].ResponseId, u.ResponseId));
        Assert.Equal(ChatFinishReason.Length, streamed.FinishReason);
        Assert.Equal(whole.Text, streamed.Text);
        Assert.Equal(Reasoning(whole.Messages[0].Contents), Reasoning(streamed.Messages.SelectMany(m => m.Contents)));
        Assert.Equal(MaxTokens, streamed.Usage?.OutputTokenCount);
        Assert.Equal(whole.Usage?.InputTokenCount, streamed.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task CancellingMidStreamStopsTheClientAndTheServerFreesTheSequence()
    {
        var app = server.App.App;
        Assert.True(app.Services.GetRequiredService<ModelRegistry>().TryGetModels(out var models, out _));
        var engine = Assert.IsType<InferenceEngine>(models.Engine);
        // Aborted requests of this server's engine only (its meter comes from this app's IMeterFactory).
        var meterFactory = app.Services.GetRequiredService<IMeterFactory>();
        int aborted = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meterFactory && instrument.Name == InferenceMetrics.RequestsName) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == InferenceMetrics.FinishReasonTag && (string?)tag.Value == "abort") Interlocked.Add(ref aborted, (int)value);
        });
        listener.Start();

        using var client = Client(server.App);
        using var cts = new CancellationTokenSource();
        int received = 0, afterCancel = 0;
        var options = Greedy(maxTokens: 4000);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("Tell a long story.", options, cts.Token))
            {
                if (!update.Contents.Any(c => c is TextContent or TextReasoningContent)) continue;
                if (cts.IsCancellationRequested) afterCancel++;
                else if (++received == 3) await cts.CancelAsync();
            }
        });

        Assert.Equal(3, received);
        // Events already read into the client's buffer may still come out (a CI run saw one); a client that ignored
        // the token would read on toward 4,000.
        Assert.InRange(afterCancel, 0, 16);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((engine.RunningCount > 0 || engine.QueueDepth > 0 || Volatile.Read(ref aborted) == 0) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(0, engine.RunningCount);
        Assert.Equal(0, engine.QueueDepth);
        Assert.Equal(1, Volatile.Read(ref aborted));   // freed by the abort, not by running to max_tokens
    }
}

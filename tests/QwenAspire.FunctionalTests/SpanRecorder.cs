using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace QwenAspire.FunctionalTests;

/// <summary>Records the inference API's spans while it lives.</summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            // The name the service defaults register with OpenTelemetry: the spans are exported only if it is the server's.
            ShouldListenTo = s => s.Name == TelemetryNames.InferenceApiActivitySource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The span of one response id; it ends when the handler returns, just after the last byte was written.</summary>
    public async Task<Activity> WaitForAsync(string responseId)
    {
        Activity? span = null;
        for (int attempt = 0; attempt < 50 && span is null; attempt++)
        {
            span = _spans.FirstOrDefault(a => (string?)a.GetTagItem("gen_ai.response.id") == responseId);
            if (span is null) await Task.Delay(50);
        }
        Assert.NotNull(span);
        return span;
    }

    public void Dispose() => _listener.Dispose();
}

namespace QwenAspire.Engine.Diagnostics;

/// <summary>
/// The engine's KV and scheduling state for the <c>qwenaspire.*</c> gauges and counters; read from the
/// metrics thread, so every member is a thread-safe read.
/// </summary>
public interface IEngineStatistics
{
    /// <summary>Requests waiting to be scheduled.</summary>
    int QueueDepth { get; }
    /// <summary>Sequences running (decoding or prefilling).</summary>
    int RunningCount { get; }
    int KvBlocksUsed { get; }
    int KvBlocksFree { get; }
    /// <summary>Prompt tokens looked up in the prefix cache (recomputed sequences included).</summary>
    long PrefixCacheQueriedTokens { get; }
    /// <summary>Of those, tokens whose KV came from the cache.</summary>
    long PrefixCacheHitTokens { get; }
    /// <summary>Running sequences preempted (sent back to recompute) to free KV blocks.</summary>
    long Preemptions { get; }
    /// <summary>Sequences waiting for KV room or a seat, preempted ones included.</summary>
    int WaitingSequences { get; }
}

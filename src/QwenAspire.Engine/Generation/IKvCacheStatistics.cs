namespace QwenAspire.Engine.Generation;

/// <summary>
/// Optional: a model runner that implements this reports its KV cache occupancy to the
/// <c>qwenaspire.kv_blocks.*</c> gauges (read from the metrics thread, so keep the reads thread-safe).
/// </summary>
public interface IKvCacheStatistics
{
    int KvBlocksUsed { get; }
    int KvBlocksFree { get; }
}

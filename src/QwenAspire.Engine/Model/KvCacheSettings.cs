using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// How big the paged KV pool is: a byte budget, or a fraction of the memory available at load time
/// (exactly one of the two), capped at what <see cref="MaxSequences"/> full-context sequences need.
/// </summary>
/// <param name="BudgetBytes">Bytes for K and V of all layers (<c>engine.kv_cache_memory: 4GiB</c>).</param>
/// <param name="BudgetFraction">Fraction (0, 1] of available memory (<c>engine.kv_cache_memory: 0.25</c>).</param>
/// <param name="BlockSize">Tokens per block (<c>engine.kv_block_size</c>).</param>
/// <param name="DType"><c>auto</c> (f32 for f32 models, else bf16), <c>f32</c>, <c>bf16</c> or <c>f16</c>.</param>
/// <param name="MaxSequences">The pool never exceeds this many full-context sequences.</param>
public sealed record KvCacheSettings(long? BudgetBytes = null, double? BudgetFraction = 0.25, int BlockSize = 16, string DType = "auto", int MaxSequences = 16)
{
    public static KvCacheSettings Default { get; } = new();

    /// <summary>The pool's dtype for a model whose linear weights are <paramref name="modelDType"/>.</summary>
    /// <remarks>
    /// f32 models keep f32 KV (their goldens hold to 1e-3); reduced-precision models store bf16 KV: half the
    /// memory, and decode attention reads half the bytes (measured in bench-model, see bench/README.md).
    /// </remarks>
    public ScalarType ResolveDType(ModelDType modelDType) => DType.ToLowerInvariant() switch
    {
        "auto" or "" => modelDType == ModelDType.F32 ? ScalarType.Float32 : ScalarType.BFloat16,
        "f32" or "float32" => ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "f16" or "float16" => ScalarType.Float16,
        _ => throw new ArgumentException($"KV cache dtype must be auto, f32, bf16 or f16, not '{DType}'.", nameof(DType)),
    };

    /// <summary>Blocks of <paramref name="dtype"/> KV for <paramref name="config"/> that fit the budget (and the sequence cap); at least one.</summary>
    public int Blocks(Qwen3Config config, ScalarType dtype, out long budget)
    {
        if (BlockSize <= 0) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "KV block size must be positive.");
        if (MaxSequences <= 0) throw new ArgumentOutOfRangeException(nameof(MaxSequences), MaxSequences, "must be positive.");
        budget = BudgetBytes ?? (long)(AvailableBytes() * (BudgetFraction ?? throw new ArgumentException("KV cache: neither a byte budget nor a fraction is set.")));
        if (BudgetBytes is null && BudgetFraction is not (> 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(BudgetFraction), BudgetFraction, "KV cache memory fraction must be in (0, 1].");
        var perBlock = PagedKvCache.BytesPerToken(config.NumHiddenLayers, config.KeyValueHeads, config.HeadDim, dtype) * BlockSize;
        var blocks = budget / perBlock;
        var cap = ((long)config.MaxPositionEmbeddings * MaxSequences + BlockSize - 1) / BlockSize;
        blocks = Math.Min(Math.Min(blocks, cap), int.MaxValue / BlockSize);
        if (blocks < 1)
            throw new ArgumentOutOfRangeException(nameof(BudgetBytes), budget, $"KV cache memory of {budget} bytes does not hold one block of {BlockSize} tokens ({perBlock} bytes).");
        return (int)blocks;
    }

    /// <summary>Host memory available now: /proc/meminfo MemAvailable (Linux), else the GC's view.</summary>
    /// <remarks>TorchSharp 0.107 exposes no cudaMemGetInfo, so on CUDA a fraction is also of host memory; size GPU pools in bytes.</remarks>
    public static long AvailableBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var kb = long.Parse(line["MemAvailable:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                return kb * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        var info = GC.GetGCMemoryInfo();
        return Math.Max(0, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes);
    }
}

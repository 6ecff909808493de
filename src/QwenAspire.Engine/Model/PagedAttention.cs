using QwenAspire.Engine.Model.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// Attention of one layer over the paged pool, for every sequence of a step. Prefill chunks gather their
/// context's slots and attend with torch matmuls under a causal mask; decode rows go through
/// <see cref="PagedAttentionKernel"/> on CPU, or a padded torch gather (the pure-torch path).
/// </summary>
internal static class PagedAttention
{
    /// <summary>q (N, H, D) f32 after RoPE, this step's K/V already in the pool → (N, H·D) f32.</summary>
    public static Tensor Forward(Tensor q, PagedKvCache cache, int layer, PagedStep step, Qwen3Config config, PagedAttentionPath path, int threads)
    {
        var n = q.shape[0];
        int heads = config.NumAttentionHeads, kvHeads = config.KeyValueHeads, d = config.HeadDim, group = heads / kvHeads;
        // One Scalar held to the end of the call (see Qwen3DecoderLayer.RmsNorm: a per-op temporary can be finalized mid-call).
        using Scalar scale = 1.0 / Math.Sqrt(d);
        var batch = step.Batch;
        // One prefill sequence alone (the common prompt step): its result is the whole output.
        if (step.PrefillSequences.Length == 1 && step.DecodeSequences.Length == 0)
            return Prefill(q, cache, layer, step, 0, heads, kvHeads, d, group, scale);
        var output = zeros(n, heads * d, ScalarType.Float32, q.device); // (N, H·D)
        for (var i = 0; i < step.PrefillSequences.Length; i++)
        {
            var s = step.PrefillSequences[i];
            output.narrow(0, batch.QueryStarts[s], batch.QueryLength(s)).copy_(Prefill(q, cache, layer, step, i, heads, kvHeads, d, group, scale));
        }
        if (step.DecodeSequences.Length == 0) return output;
        if (step.KernelDecode) DecodeKernel(q, output, cache, layer, step, path, threads);
        else DecodeTorch(q, output, cache, layer, step, kvHeads, d, group, scale);
        return output;
    }

    /// <summary>Prefill sequence <paramref name="i"/> of the step → (L, H·D).</summary>
    private static Tensor Prefill(Tensor q, PagedKvCache cache, int layer, PagedStep step, int i, int heads, int kvHeads, int d, int group, Scalar scale)
    {
        var s = step.PrefillSequences[i];
        var batch = step.Batch;
        var l = batch.QueryLength(s);
        var gather = step.PrefillGathers[i];                                                     // (C)
        var keys = cache.Keys(layer).index_select(0, gather).to(ScalarType.Float32).transpose(0, 1);   // (KV, C, D)
        var values = cache.Values(layer).index_select(0, gather).to(ScalarType.Float32).transpose(0, 1); // (KV, C, D)
        // GQA without copying K/V: query head h uses kv head h / group, so fold the group into rows.
        var qg = q.narrow(0, batch.QueryStarts[s], l).transpose(0, 1).reshape(kvHeads, group * l, d); // (KV, G·L, D)
        var scores = qg.matmul(keys.transpose(1, 2)).mul_(scale);                                 // (KV, G·L, C)
        if (step.PrefillMasks[i] is { } mask) scores = scores.add_(mask);                         // (G·L, C)
        var context = scores.softmax(-1).matmul(values);                                          // (KV, G·L, D)
        return context.view(heads, l, d).transpose(0, 1).reshape(l, heads * d);                   // (L, H·D)
    }

    /// <summary>Pure torch: every decode sequence's context gathered into one padded (B, KV, Cmax, D) batch.</summary>
    private static void DecodeTorch(Tensor q, Tensor output, PagedKvCache cache, int layer, PagedStep step, int kvHeads, int d, int group, Scalar scale)
    {
        var b = step.DecodeSequences.Length;
        var mask = step.DecodeMask!;                                                              // (B, 1, 1, Cmax)
        var cmax = mask.shape[3];
        var rows = step.DecodeRows!;
        var qd = q.index_select(0, rows).view(b, kvHeads, group, d);                              // (B, KV, G, D)
        var keys = cache.Keys(layer).index_select(0, step.DecodeGather!).to(ScalarType.Float32).view(b, cmax, kvHeads, d).permute(0, 2, 3, 1); // (B, KV, D, Cmax)
        var values = cache.Values(layer).index_select(0, step.DecodeGather!).to(ScalarType.Float32).view(b, cmax, kvHeads, d).transpose(1, 2); // (B, KV, Cmax, D)
        var scores = qd.matmul(keys).mul_(scale).add_(mask);                                     // (B, KV, G, Cmax)
        var context = scores.softmax(-1).matmul(values).reshape(b, kvHeads * group * d);         // (B, H·D)
        output.index_copy_(0, rows, context);
    }

    private static void DecodeKernel(Tensor q, Tensor output, PagedKvCache cache, int layer, PagedStep step, PagedAttentionPath path, int threads)
    {
        var batch = step.Batch;
        var decode = step.DecodeSequences;
        using var qc = q.contiguous();
        PagedAttentionKernel.Run(qc, output, cache.Keys(layer), cache.Values(layer), batch.BlockSize,
            [.. decode.Select(s => batch.QueryStarts[s])], [.. decode.Select(s => batch.ContextLengths[s])], [.. decode.Select(s => batch.BlockTables[s])],
            path == PagedAttentionPath.Scalar ? AttentionWidth.Scalar : AttentionWidth.Auto, threads);
    }

    /// <summary>Whether decode rows can use the kernel for this pool: CPU, f32/bf16, each layer tensor addressable as one span.</summary>
    public static bool KernelAccepts(PagedKvCache cache, PagedAttentionPath path) =>
        path != PagedAttentionPath.Torch && cache.Device.type == TorchSharp.DeviceType.CPU
        && cache.DType is ScalarType.Float32 or ScalarType.BFloat16
        && (long)cache.SlotCount * cache.KeyValueHeads * cache.HeadDim * (cache.DType == ScalarType.Float32 ? 4 : 2) <= int.MaxValue
        && (path == PagedAttentionPath.Scalar || PagedAttentionKernel.Supported);
}

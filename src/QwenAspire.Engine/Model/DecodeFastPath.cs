using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model.Kernels;
using QwenAspire.Engine.Model.Lora;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>How a step made only of decode rows runs its non-linear parts.</summary>
public enum DecodeStepPath
{
    /// <summary>On CPU with the attention kernel: <see cref="DecodeFastPath"/>; elsewhere the torch ops.</summary>
    Auto,
    /// <summary>Torch ops only (what non-CPU devices run; tests compare it with the fast path).</summary>
    Torch,
    /// <summary>The fast path with its scalar reference ops (tests).</summary>
    Scalar,
}

/// <summary>
/// A CPU decode step (every sequence one row) without the small libtorch ops: norms, q/k head norms, RoPE, KV
/// stores, residual adds and SiLU·mul run in <see cref="DecodeOps"/> on a few preallocated f32 rows, attention in
/// <see cref="PagedAttentionKernel"/>; torch is left with the embedding lookup and the linear projections (whose
/// weights own their kernels, LoRA deltas included). A 1.7B decode token otherwise issues ~1,400 torch ops,
/// tens of ms of dispatch and allocation for a few KB of arithmetic each.
/// </summary>
internal static unsafe class DecodeFastPath
{
    public static bool Accepts(StepBatch batch, Qwen3ForCausalLM model, PagedKvCache cache)
    {
        if (model.DecodePath == DecodeStepPath.Torch || model.Device.type != TorchSharp.DeviceType.CPU
            || cache.Device.type != TorchSharp.DeviceType.CPU || !PagedAttention.KernelAccepts(cache, model.AttentionPath))
            return false;
        for (var s = 0; s < batch.SequenceCount; s++)
            if (batch.QueryLength(s) != 1) return false;
        return true;
    }

    /// <summary>Logits (R, vocab) f32 for the step's logits rows; every tensor made here belongs to the caller's scope.</summary>
    public static Tensor Forward(Qwen3ForCausalLM model, StepBatch batch, PagedKvCache cache, int threads)
    {
        var config = model.Config;
        int n = batch.TokenCount, hidden = config.HiddenSize, heads = config.NumAttentionHeads, kvHeads = config.KeyValueHeads, d = config.HeadDim;
        var eps = (float)config.RmsNormEps;
        var ops = model.DecodePath == DecodeStepPath.Scalar ? DecodeOpsWidth.Scalar : DecodeOpsWidth.Auto;
        var attention = model.AttentionPath == PagedAttentionPath.Scalar ? AttentionWidth.Scalar : AttentionWidth.Auto;
        var device = model.Device;

        var cos = new float[n * (d / 2)];
        var sin = new float[n * (d / 2)];
        model.Rope.Fill(batch.Positions, cos, sin);
        var lora = LoraRowGroups.FromSequences(batch.AdapterSlots, batch.QueryStarts, device);
        var rows = batch.QueryStarts[..^1];
        var ids = new long[n];
        for (var i = 0; i < n; i++) ids[i] = batch.TokenIds[i];
        var x = model.EmbedTokens.index_select(0, tensor(ids, device: device)).to(ScalarType.Float32).contiguous(); // (N, hidden)
        var normed = empty(n, hidden, ScalarType.Float32, device);   // (N, hidden)
        var context = empty(n, heads * d, ScalarType.Float32, device); // (N, H·D)

        fixed (float* cosP = cos)
        fixed (float* sinP = sin)
        {
            foreach (var layer in model.Layers)
            {
                // Per layer, the projections' outputs are freed before the next layer's.
                using var layerScope = NewDisposeScope();
                DecodeOps.RmsNorm(F(x), F(layer.InputLayerNorm), F(normed), n, hidden, eps, ops);
                var qkv = Qwen3Linear.Forward(layer.Qkv, normed, lora);
                var q = Contiguous(qkv[0]); // (N, H·D)
                var k = Contiguous(qkv[1]); // (N, KV·D)
                var v = Contiguous(qkv[2]); // (N, KV·D)
                DecodeOps.HeadNormRope(F(q), n, heads, d, F(layer.QNorm), cosP, sinP, eps, ops);
                DecodeOps.HeadNormRope(F(k), n, kvHeads, d, F(layer.KNorm), cosP, sinP, eps, ops);
                Store(cache.Keys(layer.Index), k, n, kvHeads * d, batch.SlotMapping);
                Store(cache.Values(layer.Index), v, n, kvHeads * d, batch.SlotMapping);
                using (var qHeads = q.view(n, heads, d))
                    PagedAttentionKernel.Run(qHeads, context, cache.Keys(layer.Index), cache.Values(layer.Index), batch.BlockSize,
                        rows, batch.ContextLengths, batch.BlockTables, attention, threads);
                var o = Contiguous(layer.OProj.Forward(context, lora)); // (N, hidden)
                DecodeOps.AddRmsNorm(F(x), F(o), F(layer.PostAttentionLayerNorm), F(normed), n, hidden, eps, ops);
                var gateUp = Qwen3Linear.Forward(layer.GateUp, normed, lora);
                var gate = Contiguous(gateUp[0]); // (N, inter)
                var up = Contiguous(gateUp[1]);   // (N, inter)
                DecodeOps.SiluMul(F(gate), F(up), gate.NumberOfElements, ops);
                var down = Contiguous(layer.DownProj.Forward(gate, lora)); // (N, hidden)
                DecodeOps.Add(F(x), F(down), x.NumberOfElements, ops);
            }
        }
        var last = Identity(batch.LogitsRows, n) ? x : x.index_select(0, tensor(batch.LogitsRows.Select(r => (long)r).ToArray(), device: device)).contiguous(); // (R, hidden)
        var final = empty(last.shape[0], hidden, ScalarType.Float32, device); // (R, hidden)
        DecodeOps.RmsNorm(F(last), F(model.Norm), F(final), (int)last.shape[0], hidden, eps, ops);
        return model.LmHead.Forward(final); // (R, vocab)
    }

    private static bool Identity(int[] logitsRows, int n)
    {
        if (logitsRows.Length != n) return false;
        for (var i = 0; i < n; i++)
            if (logitsRows[i] != i) return false;
        return true;
    }

    private static void Store(Tensor pool, Tensor rows, int n, int width, int[] slots)
    {
        var bf16 = pool.dtype == ScalarType.BFloat16;
        DecodeOps.StoreRows(F(rows), n, width, slots, Unsafe.AsPointer(ref MemoryMarshal.GetReference(pool.bytes)), bf16);
    }

    private static Tensor Contiguous(Tensor t) => t.is_contiguous() ? t : t.contiguous();

    /// <summary>The data of a contiguous CPU f32 tensor (native memory: no pinning needed).</summary>
    private static float* F(Tensor t)
    {
        if (t.dtype != ScalarType.Float32 || !t.is_contiguous())
            throw new InvalidOperationException($"decode fast path needs contiguous f32 tensors; got {t.dtype} [{string.Join(", ", t.shape)}].");
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));
    }
}

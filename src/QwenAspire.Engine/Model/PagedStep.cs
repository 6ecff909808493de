using QwenAspire.Engine.Model.Lora;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>How decode rows (query length 1) attend over their blocks.</summary>
public enum PagedAttentionPath
{
    /// <summary>The SIMD kernel on CPU when the CPU has one, else torch.</summary>
    Auto,
    /// <summary>Torch only: no pointers into tensor memory, no SIMD (CUDA hosts; tests compare it with the kernel).</summary>
    Torch,
    /// <summary>The SIMD kernel's scalar reference (tests).</summary>
    Scalar,
}

/// <summary>
/// What every layer of one step shares, built once per forward (inside its dispose scope): slot indices,
/// RoPE tables at each row's own position, adapter row groups, and which sequences decode (one row) or
/// prefill (a chunk of rows), with the gather indices and masks the torch attention needs.
/// </summary>
internal sealed class PagedStep
{
    public PagedStep(StepBatch batch, Qwen3ForCausalLM model, bool kernelDecode)
    {
        Batch = batch;
        var device = model.Device;
        Slots = tensor(batch.SlotMapping.Select(s => (long)s).ToArray(), device: device);  // (N)
        (Cos, Sin) = model.Rope.Tables(batch.Positions, device);                           // (N, 1, D/2)
        Lora = LoraRowGroups.FromSequences(batch.AdapterSlots, batch.QueryStarts, device);
        var decode = new List<int>();
        var prefill = new List<int>();
        for (var s = 0; s < batch.SequenceCount; s++) (batch.QueryLength(s) == 1 ? decode : prefill).Add(s);
        DecodeSequences = [.. decode];
        PrefillSequences = [.. prefill];
        KernelDecode = kernelDecode;
        PrefillGathers = [.. prefill.Select(s => ContextSlots(batch, s, device))];
        PrefillMasks = [.. prefill.Select(s => CausalMask(batch.ContextLengths[s], batch.QueryLength(s), model.Config, device))];
        if (decode.Count > 0 && !kernelDecode) (DecodeGather, DecodeMask, DecodeRows) = PaddedDecode(batch, decode, device);
    }

    public StepBatch Batch { get; }
    /// <summary>(N) int64 KV slot of each row.</summary>
    public Tensor Slots { get; }
    public Tensor Cos { get; }
    public Tensor Sin { get; }
    public LoraRowGroups Lora { get; }
    /// <summary>Sequences with one new row this step.</summary>
    public int[] DecodeSequences { get; }
    /// <summary>Sequences with a chunk of new rows (prompt or chunked prefill).</summary>
    public int[] PrefillSequences { get; }
    /// <summary>Decode rows go through the CPU kernel (else through the padded torch gather below).</summary>
    public bool KernelDecode { get; }
    /// <summary>Per prefill sequence: (C) int64 slots of its whole context, in position order.</summary>
    public Tensor[] PrefillGathers { get; }
    /// <summary>Per prefill sequence: (G·L, C) additive causal mask, null for a one-row chunk.</summary>
    public Tensor?[] PrefillMasks { get; }
    /// <summary>Torch decode: (B·Cmax) int64 slots, padded with each sequence's first slot (always written, so finite).</summary>
    public Tensor? DecodeGather { get; }
    /// <summary>Torch decode: (B, 1, 1, Cmax) additive mask, −∞ past each context.</summary>
    public Tensor? DecodeMask { get; }
    /// <summary>Torch decode: (B) int64 row of each decode sequence.</summary>
    public Tensor? DecodeRows { get; }

    /// <summary>Slot of position <paramref name="pos"/> of sequence <paramref name="s"/>.</summary>
    public static int SlotOf(StepBatch batch, int s, int pos) => batch.BlockTables[s][pos / batch.BlockSize] * batch.BlockSize + pos % batch.BlockSize;

    private static Tensor ContextSlots(StepBatch batch, int s, Device device)
    {
        var slots = new long[batch.ContextLengths[s]];
        for (var pos = 0; pos < slots.Length; pos++) slots[pos] = SlotOf(batch, s, pos);
        return tensor(slots, device: device);
    }

    /// <summary>(G·L, C) additive mask: row g·L + t (position C − L + t) sees positions ≤ its own.</summary>
    private static Tensor? CausalMask(int context, int rows, Qwen3Config config, Device device)
    {
        if (rows == 1) return null;
        var group = config.NumAttentionHeads / config.KeyValueHeads;
        var start = context - rows;
        var mask = full(rows, context, float.NegativeInfinity, ScalarType.Float32, device).triu_(start + 1); // (L, C)
        return mask.repeat(group, 1);
    }

    private static (Tensor Gather, Tensor Mask, Tensor Rows) PaddedDecode(StepBatch batch, List<int> decode, Device device)
    {
        var cmax = decode.Max(s => batch.ContextLengths[s]);
        var gather = new long[decode.Count * cmax];
        var mask = new float[decode.Count * cmax];
        var rows = new long[decode.Count];
        for (var b = 0; b < decode.Count; b++)
        {
            var s = decode[b];
            rows[b] = batch.QueryStarts[s];
            var context = batch.ContextLengths[s];
            for (var c = 0; c < cmax; c++)
            {
                gather[b * cmax + c] = c < context ? SlotOf(batch, s, c) : SlotOf(batch, s, 0);
                mask[b * cmax + c] = c < context ? 0f : float.NegativeInfinity;
            }
        }
        return (tensor(gather, device: device), tensor(mask, [decode.Count, 1, 1, cmax], device: device), tensor(rows, device: device));
    }
}

using QwenAspire.Engine.Model.Lora;
using QwenAspire.Engine.Model.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// A bias-free linear layer (<c>y = x Wᵀ</c>, W is [out, in] as in HF) whose weight may be stored in
/// bf16/f16 while activations stay f32, plus unmerged LoRA adapters in slots, applied per row
/// (<c>y = W x + scale · B (A x)</c> for the rows of each adapter's group).
/// </summary>
public sealed class Qwen3Linear : IDisposable
{
    private readonly Dictionary<int, LoraFactors> _adapters = [];

    public Qwen3Linear(string name, Tensor weight, LinearPolicy policy)
    {
        if (policy.WidenAboveRows < 0 || policy.KernelMaxRows < 0 || policy.WidenBlockRows < 0 || policy.KernelChunkMaxRows < 0)
            throw new ArgumentOutOfRangeException(nameof(policy), $"LinearPolicy fields must be non-negative; got {policy}.");
        Name = name;
        Weight = weight;
        Policy = policy;
        // Captured now: decode forwards drop libtorch to one thread (see Qwen3ForCausalLM.Forward).
        KernelThreads = torch.get_num_threads();
    }

    /// <summary>HF module name, e.g. <c>model.layers.0.self_attn.q_proj</c>.</summary>
    public string Name { get; }
    public Tensor Weight { get; private set; }
    public LinearPolicy Policy { get; }
    /// <summary>Threads for the SIMD GEMV: libtorch's intra-op thread count when the layer was built.</summary>
    public int KernelThreads { get; }
    public long OutFeatures => Weight.shape[0];
    public long InFeatures => Weight.shape[1];

    /// <summary>Adapter slots attached to this module.</summary>
    public IReadOnlyCollection<int> AdapterSlots => _adapters.Keys;

    /// <summary>
    /// x (T, in) f32 → (T, out) f32: the base projection once for all rows, then each row group's own
    /// adapter delta (groups whose adapter does not target this module add nothing).
    /// </summary>
    public Tensor Forward(Tensor x, LoraRowGroups? rows = null)
    {
        var y = Project(x);
        if (rows is null || _adapters.Count == 0) return y;
        foreach (var group in rows.Groups)
        {
            if (!_adapters.TryGetValue(group.Slot, out var lora)) continue;
            // (T', in) → (T', r) → (T', out); the low-rank path stays f32.
            if (group.Index is null)
            {
                var delta = nn.functional.linear(nn.functional.linear(x.narrow(0, group.Start, group.Count), lora.A), lora.B);
                y.narrow(0, group.Start, group.Count).add_(delta, lora.Scale);
            }
            else
            {
                var delta = nn.functional.linear(nn.functional.linear(x.index_select(0, group.Index), lora.A), lora.B);
                y.index_add_(0, group.Index, delta, lora.Scale);
            }
        }
        return y;
    }

    private Tensor Project(Tensor x)
    {
        if (Weight.dtype == ScalarType.Float32) return nn.functional.linear(x, Weight);
        var rows = x.shape[0];
        // Decode: a hand-written GEMV reads the 16-bit weight in place at memory bandwidth, which libtorch's
        // one-row bf16 matmul does not reach on CPU.
        if (rows <= Policy.KernelMaxRows && ReducedGemv.Accepts(x, Weight)) return ReducedGemv.Project(x, Weight, KernelThreads);
        // Prompts of a few dozen rows: the SIMD GEMV in chunks of KernelMaxRows still reads the 16-bit weight in
        // place, once per chunk, which beats widening the whole weight for so few rows.
        if (rows <= Policy.KernelChunkMaxRows && Policy.KernelMaxRows > 0 && ReducedGemv.Accepts(x, Weight)) return ProjectInChunks(x);
        // Reduced-precision matmuls beat f32 only for a few rows on this kind of CPU (bandwidth-bound
        // decode); for long prompts widening the weight is faster than a bf16 GEMM.
        if (rows > Policy.WidenAboveRows)
        {
            if (Policy.WidenBlockRows > 0 && OutFeatures > Policy.WidenBlockRows) return ProjectWidenedBlocks(x);
            // Freed now, not at the end of the forward's scope: holding every widened weight would double RSS.
            using var wide = Weight.to(ScalarType.Float32);
            return nn.functional.linear(x, wide);
        }
        return nn.functional.linear(x.to(Weight.dtype), Weight).to(ScalarType.Float32);
    }

    /// <summary>x (T, in) → (T, out) through the SIMD GEMV, KernelMaxRows rows of x at a time.</summary>
    private unsafe Tensor ProjectInChunks(Tensor x)
    {
        var rows = (int)x.shape[0];
        var outF = (int)OutFeatures;
        var inF = (int)InFeatures;
        using var xc = x.contiguous();
        var y = empty(rows, outF, ScalarType.Float32); // (T, out)
        if (rows == 0 || outF == 0) return y;
        var f16 = Weight.dtype == ScalarType.Float16;
        fixed (byte* xb = xc.bytes)
        fixed (byte* wb = Weight.bytes)
        fixed (byte* yb = y.bytes)
        {
            float* xp = (float*)xb, yp = (float*)yb;
            for (var r0 = 0; r0 < rows; r0 += Policy.KernelMaxRows)
            {
                var n = Math.Min(Policy.KernelMaxRows, rows - r0);
                ReducedGemv.Compute(xp + (long)r0 * inF, n, (ushort*)wb, outF, inF, yp + (long)r0 * outF, f16, KernelThreads);
            }
        }
        return y;
    }

    /// <summary>
    /// x (T, in) → (T, out), widening WidenBlockRows weight rows at a time into one reused f32 scratch: the
    /// widened block stays in cache for its GEMM instead of a whole f32 weight going out to (fresh) memory.
    /// </summary>
    private Tensor ProjectWidenedBlocks(Tensor x)
    {
        var rows = x.shape[0];
        var outF = OutFeatures;
        var block = (long)Policy.WidenBlockRows;
        var y = empty(rows, outF, ScalarType.Float32, x.device); // (T, out)
        using var scratch = empty(block, InFeatures, ScalarType.Float32, Weight.device); // (block, in)
        for (long o0 = 0; o0 < outF; o0 += block)
        {
            var n = Math.Min(block, outF - o0);
            using var w = Weight.narrow(0, o0, n);
            using var s = scratch.narrow(0, 0, n);
            s.copy_(w);
            using var part = nn.functional.linear(x, s); // (T, n)
            using var dst = y.narrow(1, o0, n);
            dst.copy_(part);
        }
        return y;
    }

    /// <summary>Adds <c>scale · (B @ A)</c> to the weight: delta in f64, rounded once to the storage dtype.</summary>
    public void Merge(Tensor a, Tensor b, double scale)
    {
        using var scope = NewDisposeScope();
        var merged = Weight.to(ScalarType.Float64)
            .add_(b.to(ScalarType.Float64).matmul(a.to(ScalarType.Float64)), scale)
            .to(Weight.dtype).contiguous();
        var old = Weight;
        Weight = merged.DetachFromDisposeScope();
        old.Dispose();
    }

    /// <summary>Keeps an adapter unmerged in <paramref name="slot"/> (rows of that slot get its delta).</summary>
    public void Attach(int slot, Tensor a, Tensor b, double scale)
    {
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != InFeatures || b.shape[0] != OutFeatures || a.shape[0] != b.shape[1])
            throw new ArgumentException($"{Name}: LoRA factors A [{string.Join(", ", a.shape)}], B [{string.Join(", ", b.shape)}] do not fit a [{OutFeatures}, {InFeatures}] weight.");
        Detach(slot);
        // Own copies, outside any scope: the caller disposes its adapter tensors after attaching.
        using var scope = NewDisposeScope();
        var a32 = a.to(ScalarType.Float32, Weight.device).contiguous().clone().DetachFromDisposeScope();
        var b32 = b.to(ScalarType.Float32, Weight.device).contiguous().clone().DetachFromDisposeScope();
        _adapters[slot] = new LoraFactors(a32, b32, scale);
    }

    /// <summary>Frees the adapter in <paramref name="slot"/>, if this module has one.</summary>
    public void Detach(int slot)
    {
        if (_adapters.Remove(slot, out var existing)) existing.Dispose();
    }

    public void Dispose()
    {
        Weight.Dispose();
        foreach (var lora in _adapters.Values) lora.Dispose();
        _adapters.Clear();
    }

    private sealed record LoraFactors(Tensor A, Tensor B, double Scale) : IDisposable
    {
        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
        }
    }
}

/// <summary>How reduced-precision weights are multiplied (see <see cref="Qwen3Linear"/>).</summary>
/// <param name="WidenAboveRows">Above this many rows a bf16/f16 weight is widened to f32 for the matmul.</param>
/// <param name="KernelMaxRows">Up to this many rows a CPU bf16/f16 weight goes through the in-place SIMD GEMV
/// (<c>Kernels/ReducedGemv</c>) instead of libtorch; 0 turns it off.</param>
/// <param name="WidenBlockRows">Widening goes this many weight rows at a time through a reused f32 scratch (the
/// widened block stays in cache); 0 widens the whole weight at once.</param>
/// <param name="KernelChunkMaxRows">Up to this many rows the SIMD GEMV runs in chunks of <paramref name="KernelMaxRows"/>
/// rows instead of widening; 0 turns it off.</param>
public sealed record LinearPolicy(int WidenAboveRows = 8, int KernelMaxRows = 8, int WidenBlockRows = 256, int KernelChunkMaxRows = 0)
{
    public static LinearPolicy Default { get; } = new();
}

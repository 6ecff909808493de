using QwenAspire.Engine.Model.Kernels;
using QwenAspire.Engine.Model.Lora;
using QwenAspire.Engine.Model.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// A bias-free linear layer (<c>y = x Wᵀ</c>, W is [out, in] as in HF): the base projection belongs to its
/// <see cref="LinearWeight"/> (dense f32/bf16/f16 or int8/int4 groups, each with its own kernel and layout;
/// activations stay f32), plus unmerged LoRA adapters in slots, applied per row
/// (<c>y = W x + scale · B (A x)</c> for the rows of each adapter's group).
/// </summary>
public sealed class Qwen3Linear : IDisposable
{
    private readonly Dictionary<int, LoraFactors> _adapters = [];

    public Qwen3Linear(string name, Tensor weight, LinearPolicy policy)
        : this(name, new DenseWeight(weight, policy))
    {
    }

    public Qwen3Linear(string name, LinearWeight weight)
    {
        Name = name;
        Weight = weight ?? throw new ArgumentNullException(nameof(weight));
    }

    /// <summary>HF module name, e.g. <c>model.layers.0.self_attn.q_proj</c>.</summary>
    public string Name { get; }
    /// <summary>The base weight with its projection; replaced (never mutated) by <see cref="Merge"/> and <see cref="Quantize"/>.</summary>
    public LinearWeight Weight { get; private set; }
    public long OutFeatures => Weight.OutFeatures;
    public long InFeatures => Weight.InFeatures;

    /// <summary>Adapter slots attached to this module.</summary>
    public IReadOnlyCollection<int> AdapterSlots => _adapters.Keys;

    /// <summary>
    /// x (T, in) f32 → (T, out) f32: the base projection once for all rows, then each row group's own
    /// adapter delta (groups whose adapter does not target this module add nothing).
    /// </summary>
    public Tensor Forward(Tensor x, LoraRowGroups? rows = null) => AddDeltas(x, Project(x), rows);

    /// <summary>
    /// <see cref="Forward"/> of several modules on the same x (T, in): the ones whose weights are one SIMD GEMV each
    /// run as one <see cref="GemvGroup"/> (one hand-off to the workers), the others alone; adapter deltas after.
    /// </summary>
    public static Tensor[] Forward(IReadOnlyList<Qwen3Linear> linears, Tensor x, LoraRowGroups? rows = null)
    {
        // Only quantized groups take the VNNI group path; dense ones skip building its weight list.
        var outputs = linears.Count > 0 && linears[0].Weight is QuantizedWeight ? QuantizedWeight.TryProjectGroup([.. linears.Select(l => l.Weight)], x) : null;
        if (outputs is not null)
        {
            for (var i = 0; i < linears.Count; i++) outputs[i] = linears[i].AddDeltas(x, outputs[i], rows);
            return outputs;
        }
        outputs = new Tensor[linears.Count];
        var jobs = new List<GemvJob>(linears.Count);
        long weights = 0;
        var threads = 1;
        for (var i = 0; i < linears.Count; i++)
        {
            var weight = linears[i].Weight;
            if (!weight.TryGemv(x, out var job, out outputs[i])) continue;
            jobs.Add(job);
            weights += weight.OutFeatures * weight.InFeatures;
            threads = Math.Max(threads, weight.GemvThreads);
        }
        if (jobs.Count > 0) new GemvGroup([.. jobs]).Run(weights, threads);
        for (var i = 0; i < linears.Count; i++)
            outputs[i] = linears[i].AddDeltas(x, outputs[i] ?? linears[i].Project(x), rows);
        return outputs;
    }

    /// <summary>y (T, out) += each row group's adapter delta of x (T, in); returns y.</summary>
    private Tensor AddDeltas(Tensor x, Tensor y, LoraRowGroups? rows)
    {
        if (rows is null || _adapters.Count == 0) return y;
        foreach (var group in rows.Groups)
        {
            if (!_adapters.TryGetValue(group.Slot, out var lora)) continue;
            // An explicit Scalar held to the end of the call: an implicit double→Scalar temporary is unreferenced
            // once its handle is passed, so a GC on another thread could finalize it mid-call (seen as a
            // torch "toFloat" check failure in index_add_).
            using Scalar scale = lora.Scale;
            // (T', in) → (T', r) → (T', out); the low-rank path stays f32.
            if (group.Index is null)
            {
                var delta = nn.functional.linear(nn.functional.linear(x.narrow(0, group.Start, group.Count), lora.A), lora.B);
                y.narrow(0, group.Start, group.Count).add_(delta, scale);
            }
            else
            {
                var delta = nn.functional.linear(nn.functional.linear(x.index_select(0, group.Index), lora.A), lora.B);
                y.index_add_(0, group.Index, delta, scale);
                GC.KeepAlive(scale);
            }
        }
        return y;
    }

    private Tensor Project(Tensor x) => Weight.Project(x);

    /// <summary>
    /// Adds <c>scale · (B @ A)</c> to the dense weight (delta in f64, rounded once to the storage dtype). A
    /// quantized weight refuses: merging must happen on the float weight, before <see cref="Quantize"/>.
    /// </summary>
    public void Merge(Tensor a, Tensor b, double scale)
    {
        if (Weight is not DenseWeight dense)
            throw new InvalidOperationException($"'{Name}' is already quantized ({Weight.Quantization.Name()}); merge adapters before quantizing.");
        var old = Weight;
        Weight = dense.Merged(a, b, scale);
        old.Dispose();
    }

    /// <summary>
    /// Replaces the weight by its <paramref name="mode"/> quantization (no-op for <see cref="WeightQuantization.None"/>
    /// or when the shape does not fit the groups). <paramref name="ownsOld"/> false leaves the old weight alive
    /// (a tied lm_head shares the embedding tensor).
    /// </summary>
    public void Quantize(WeightQuantization mode, int groupSize, bool ownsOld = true)
    {
        if (mode == WeightQuantization.None || Weight.Quantization == mode) return;
        if (!QuantizedWeight.Fits(Weight.InFeatures, groupSize)) return;
        var policy = (Weight as DenseWeight)?.Policy ?? LinearPolicy.Default;
        var old = Weight;
        Weight = QuantizedWeight.Quantize(old, mode, groupSize, policy);
        if (ownsOld) old.Dispose();
    }

    /// <summary>Replaces the weight by an already packed quantization of it (read from a <see cref="QuantizationCache"/>).</summary>
    internal void UsePacked(PackedWeight packed, WeightQuantization mode, int groupSize, bool ownsOld = true)
    {
        var policy = (Weight as DenseWeight)?.Policy ?? LinearPolicy.Default;
        var old = Weight;
        Weight = QuantizedWeight.FromPacked(packed, mode, groupSize, old.InFeatures, policy);
        if (ownsOld) old.Dispose();
    }

    /// <summary>Keeps an adapter unmerged in <paramref name="slot"/> (rows of that slot get its delta).</summary>
    public void Attach(int slot, Tensor a, Tensor b, double scale)
    {
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != InFeatures || b.shape[0] != OutFeatures || a.shape[0] != b.shape[1])
            throw new ArgumentException($"{Name}: LoRA factors A [{string.Join(", ", a.shape)}], B [{string.Join(", ", b.shape)}] do not fit a [{OutFeatures}, {InFeatures}] weight.");
        Detach(slot);
        // Own copies, outside any scope: the caller disposes its adapter tensors after attaching.
        using var scope = NewDisposeScope();
        var a32 = a.to(ScalarType.Float32, Weight.Device).contiguous().clone().DetachFromDisposeScope();
        var b32 = b.to(ScalarType.Float32, Weight.Device).contiguous().clone().DetachFromDisposeScope();
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

/// <summary>
/// How reduced-precision and quantized weights are multiplied (see <c>Weights/DenseWeight</c>, <c>Weights/QuantizedWeight</c>).
/// Batched decode sends steps of 1–16 rows, so up to 16 rows go through the SIMD kernels, which read the weight
/// once per step; above that (prefill) weights are widened/dequantized in blocks for libtorch's f32 GEMM.
/// </summary>
/// <param name="WidenAboveRows">Above this many rows a bf16/f16 weight is widened to f32 for the matmul.</param>
/// <param name="KernelMaxRows">Up to this many rows a CPU bf16/f16 weight goes through the in-place SIMD GEMV
/// (<c>Kernels/ReducedGemv</c>) instead of libtorch; 0 turns it off.</param>
/// <param name="WidenBlockRows">Widening goes this many weight rows at a time through a reused f32 scratch (the
/// widened block stays in cache); 0 widens the whole weight at once.</param>
/// <param name="KernelChunkMaxRows">Up to this many rows the SIMD GEMV runs in chunks of <paramref name="KernelMaxRows"/>
/// rows instead of widening; 0 turns it off.</param>
/// <param name="Bf16DotGemm">Above <paramref name="KernelMaxRows"/> rows, bf16 weights go through the cache-blocked
/// AVX512-BF16 kernel (<c>Kernels/Bf16DotGemv.ProjectMany</c>) where the CPU has it, instead of libtorch.</param>
public sealed record LinearPolicy(int WidenAboveRows = 16, int KernelMaxRows = 16, int WidenBlockRows = 256, int KernelChunkMaxRows = 0, bool Bf16DotGemm = true)
{
    public static LinearPolicy Default { get; } = new();
}

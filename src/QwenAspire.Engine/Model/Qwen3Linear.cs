using QwenAspire.Engine.Model.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// A bias-free linear layer (<c>y = x Wᵀ</c>, W is [out, in] as in HF) whose weight may be stored in
/// bf16/f16 while activations stay f32, plus unmerged LoRA adapters selected per call
/// (<c>y = W x + scale · B (A x)</c>).
/// </summary>
public sealed class Qwen3Linear : IDisposable
{
    private readonly Dictionary<string, LoraFactors> _adapters = new(StringComparer.Ordinal);

    public Qwen3Linear(string name, Tensor weight, LinearPolicy policy)
    {
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

    /// <summary>x (T, in) f32 → (T, out) f32.</summary>
    public Tensor Forward(Tensor x, string? adapter = null)
    {
        var y = Project(x);
        if (adapter is not null && _adapters.TryGetValue(adapter, out var lora))
        {
            // (T, in) → (T, r) → (T, out); the low-rank path stays f32.
            y = y.add_(nn.functional.linear(nn.functional.linear(x, lora.A), lora.B), lora.Scale);
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
        // Reduced-precision matmuls beat f32 only for a few rows on this kind of CPU (bandwidth-bound
        // decode); for long prompts widening the weight once per call is faster than a bf16 GEMM.
        if (rows > Policy.WidenAboveRows)
        {
            // Freed now, not at the end of the forward's scope: holding every widened weight would double RSS.
            using var wide = Weight.to(ScalarType.Float32);
            return nn.functional.linear(x, wide);
        }
        return nn.functional.linear(x.to(Weight.dtype), Weight).to(ScalarType.Float32);
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

    /// <summary>Keeps an adapter unmerged under <paramref name="adapter"/> for per-call selection.</summary>
    public void Attach(string adapter, Tensor a, Tensor b, double scale)
    {
        if (_adapters.Remove(adapter, out var existing)) existing.Dispose();
        _adapters[adapter] = new LoraFactors(
            a.to(ScalarType.Float32, Weight.device).contiguous(),
            b.to(ScalarType.Float32, Weight.device).contiguous(),
            scale);
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
public sealed record LinearPolicy(int WidenAboveRows = 8, int KernelMaxRows = 8)
{
    public static LinearPolicy Default { get; } = new();
}

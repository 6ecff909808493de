using QwenAspire.Engine.Model.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// A bias-free linear layer (<c>y = x Wᵀ</c>, W is [out, in] as in HF): the base projection belongs to its
/// <see cref="LinearWeight"/> (dense f32/bf16/f16 or int8/int4 groups, each with its own kernel and layout;
/// activations stay f32), plus unmerged LoRA adapters selected per call (<c>y = W x + scale · B (A x)</c>).
/// </summary>
public sealed class Qwen3Linear : IDisposable
{
    private readonly Dictionary<string, LoraFactors> _adapters = new(StringComparer.Ordinal);

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

    /// <summary>Keeps an adapter unmerged under <paramref name="adapter"/> for per-call selection.</summary>
    public void Attach(string adapter, Tensor a, Tensor b, double scale)
    {
        if (_adapters.Remove(adapter, out var existing)) existing.Dispose();
        _adapters[adapter] = new LoraFactors(
            a.to(ScalarType.Float32, Weight.Device).contiguous(),
            b.to(ScalarType.Float32, Weight.Device).contiguous(),
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
public sealed record LinearPolicy(int WidenAboveRows = 16, int KernelMaxRows = 16, int WidenBlockRows = 256, int KernelChunkMaxRows = 0)
{
    public static LinearPolicy Default { get; } = new();
}

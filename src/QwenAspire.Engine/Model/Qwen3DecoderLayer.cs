using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// One Qwen3 block: pre-norm GQA attention (per-head q_norm/k_norm before RoPE) and a SwiGLU MLP, both
/// residual. Activations, norms and attention are f32; only the linear weights may be reduced precision.
/// </summary>
public sealed class Qwen3DecoderLayer : IDisposable
{
    private readonly Qwen3Config _config;
    private readonly Scalar _eps;

    public Qwen3DecoderLayer(int index, Qwen3Config config, Func<string, Tensor> norm, Func<string, Qwen3Linear> linear)
    {
        Index = index;
        _config = config;
        _eps = config.RmsNormEps.ToScalar();
        InputLayerNorm = norm(Qwen3Weights.Layer(index, "input_layernorm.weight"));
        PostAttentionLayerNorm = norm(Qwen3Weights.Layer(index, "post_attention_layernorm.weight"));
        QNorm = norm(Qwen3Weights.Layer(index, "self_attn.q_norm.weight"));
        KNorm = norm(Qwen3Weights.Layer(index, "self_attn.k_norm.weight"));
        QProj = linear(Qwen3Weights.Layer(index, "self_attn.q_proj"));
        KProj = linear(Qwen3Weights.Layer(index, "self_attn.k_proj"));
        VProj = linear(Qwen3Weights.Layer(index, "self_attn.v_proj"));
        OProj = linear(Qwen3Weights.Layer(index, "self_attn.o_proj"));
        GateProj = linear(Qwen3Weights.Layer(index, "mlp.gate_proj"));
        UpProj = linear(Qwen3Weights.Layer(index, "mlp.up_proj"));
        DownProj = linear(Qwen3Weights.Layer(index, "mlp.down_proj"));
    }

    public int Index { get; }
    public Tensor InputLayerNorm { get; }
    public Tensor PostAttentionLayerNorm { get; }
    public Tensor QNorm { get; }
    public Tensor KNorm { get; }
    public Qwen3Linear QProj { get; }
    public Qwen3Linear KProj { get; }
    public Qwen3Linear VProj { get; }
    public Qwen3Linear OProj { get; }
    public Qwen3Linear GateProj { get; }
    public Qwen3Linear UpProj { get; }
    public Qwen3Linear DownProj { get; }

    public IEnumerable<Qwen3Linear> Linears => [QProj, KProj, VProj, OProj, GateProj, UpProj, DownProj];
    /// <summary>The projections of the attention's input, run as one group (<see cref="Qwen3Linear.Forward(IReadOnlyList{Qwen3Linear}, Tensor, Lora.LoraRowGroups?)"/>).</summary>
    internal Qwen3Linear[] Qkv => [QProj, KProj, VProj];
    /// <summary>The MLP's input projections, run as one group.</summary>
    internal Qwen3Linear[] GateUp => [GateProj, UpProj];

    /// <summary>x (N, hidden) → (N, hidden) for every row of the step; writes the rows' keys and values into their slots.</summary>
    internal Tensor Forward(Tensor x, PagedStep step, PagedKvCache cache, RotaryEmbedding rope, PagedAttentionPath path, int threads)
    {
        var h = x + Attention(RmsNorm(x, InputLayerNorm, _eps), step, cache, rope, path, threads);
        var normed = RmsNorm(h, PostAttentionLayerNorm, _eps);
        // SwiGLU: down(silu(gate x) · up x)
        var gateUp = Qwen3Linear.Forward(GateUp, normed, step.Lora);
        var mlp = DownProj.Forward(nn.functional.silu(gateUp[0]).mul_(gateUp[1]), step.Lora);
        return h.add_(mlp);
    }

    private Tensor Attention(Tensor x, PagedStep step, PagedKvCache cache, RotaryEmbedding rope, PagedAttentionPath path, int threads)
    {
        var n = x.shape[0];
        var heads = _config.NumAttentionHeads;
        var kvHeads = _config.KeyValueHeads;
        var d = _config.HeadDim;

        var qkv = Qwen3Linear.Forward(Qkv, x, step.Lora);
        var q = RmsNorm(qkv[0].view(n, heads, d), QNorm, _eps);   // (N, H, D)
        var k = RmsNorm(qkv[1].view(n, kvHeads, d), KNorm, _eps); // (N, KV, D)
        var v = qkv[2].view(n, kvHeads, d);                        // (N, KV, D)
        q = rope.Apply(q, step.Cos, step.Sin);                                           // (N, H, D), each row at its own position
        k = rope.Apply(k, step.Cos, step.Sin);                                           // (N, KV, D)
        cache.Write(Index, step.Slots, k, v);
        var context = PagedAttention.Forward(q, cache, Index, step, _config, path, threads); // (N, H·D)
        return OProj.Forward(context, step.Lora);
    }

    /// <summary>HF Qwen3RMSNorm over the last dim: w · x / sqrt(mean(x²) + eps).</summary>
    /// <remarks>
    /// eps is a torch Scalar held for the model's lifetime: a double converted per call made a fresh native
    /// Scalar each time, and one freed early surfaced as a rare "Unknown scalar type" (issue 12).
    /// </remarks>
    internal static Tensor RmsNorm(Tensor x, Tensor weight, Scalar eps) =>
        x.mul(x.square().mean([-1L], keepdim: true).add_(eps).rsqrt_()).mul_(weight); // square(): no per-call Scalar

    public void Dispose()
    {
        foreach (var linear in Linears) linear.Dispose();
        InputLayerNorm.Dispose();
        PostAttentionLayerNorm.Dispose();
        QNorm.Dispose();
        KNorm.Dispose();
        _eps.Dispose();
    }
}

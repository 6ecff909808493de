using static TorchSharp.torch;

namespace QwenAspire.Engine.Model;

/// <summary>
/// One Qwen3 block: pre-norm GQA attention (per-head q_norm/k_norm before RoPE) and a SwiGLU MLP, both
/// residual. Activations, norms and attention are f32; only the linear weights may be reduced precision.
/// </summary>
public sealed class Qwen3DecoderLayer : IDisposable
{
    private readonly Qwen3Config _config;
    private readonly double _eps;

    public Qwen3DecoderLayer(int index, Qwen3Config config, Func<string, Tensor> norm, Func<string, Qwen3Linear> linear)
    {
        Index = index;
        _config = config;
        _eps = config.RmsNormEps;
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

    /// <summary>x (T, hidden) → (T, hidden); appends this step's keys and values to <paramref name="cache"/>.</summary>
    public Tensor Forward(Tensor x, KvCache cache, RotaryEmbedding rope, Tensor cos, Tensor sin, Tensor? mask, string? adapter)
    {
        var h = x + Attention(RmsNorm(x, InputLayerNorm, _eps), cache, rope, cos, sin, mask, adapter);
        var normed = RmsNorm(h, PostAttentionLayerNorm, _eps);
        // SwiGLU: down(silu(gate x) · up x)
        var mlp = DownProj.Forward(nn.functional.silu(GateProj.Forward(normed, adapter)).mul_(UpProj.Forward(normed, adapter)), adapter);
        return h.add_(mlp);
    }

    private Tensor Attention(Tensor x, KvCache cache, RotaryEmbedding rope, Tensor cos, Tensor sin, Tensor? mask, string? adapter)
    {
        var t = x.shape[0];
        var heads = _config.NumAttentionHeads;
        var kvHeads = _config.KeyValueHeads;
        var d = _config.HeadDim;
        var group = heads / kvHeads;

        var q = RmsNorm(QProj.Forward(x, adapter).view(t, heads, d), QNorm, _eps);   // (T, H, D)
        var k = RmsNorm(KProj.Forward(x, adapter).view(t, kvHeads, d), KNorm, _eps); // (T, KV, D)
        var v = VProj.Forward(x, adapter).view(t, kvHeads, d);                        // (T, KV, D)
        q = rope.Apply(q, cos, sin).transpose(0, 1);                                   // (H, T, D)
        k = rope.Apply(k, cos, sin).transpose(0, 1);                                   // (KV, T, D)
        var (keys, values) = cache.Append(Index, k, v.transpose(0, 1));                // (KV, S, D) each

        // GQA without copying K/V: query head h uses kv head h / group, so fold the group into rows.
        var qg = q.reshape(kvHeads, group * t, d);                                     // (KV, G·T, D)
        var scores = qg.matmul(keys.transpose(1, 2)).mul_(1.0 / Math.Sqrt(d));         // (KV, G·T, S)
        if (mask is not null) scores = scores.add_(mask);                              // mask (G·T, S)
        var context = scores.softmax(-1).matmul(values);                               // (KV, G·T, D)
        context = context.view(heads, t, d).transpose(0, 1).reshape(t, heads * d);    // (T, H·D)
        return OProj.Forward(context, adapter);
    }

    /// <summary>HF Qwen3RMSNorm over the last dim: w · x / sqrt(mean(x²) + eps).</summary>
    internal static Tensor RmsNorm(Tensor x, Tensor weight, double eps) =>
        x.mul(x.pow(2).mean([-1L], keepdim: true).add_(eps).rsqrt_()).mul_(weight);

    public void Dispose()
    {
        foreach (var linear in Linears) linear.Dispose();
        InputLayerNorm.Dispose();
        PostAttentionLayerNorm.Dispose();
        QNorm.Dispose();
        KNorm.Dispose();
    }
}

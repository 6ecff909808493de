namespace QwenAspire.Engine.Sampling.LogitsProcessors;

/// <summary>
/// OpenAI's <c>logit_bias</c>: each listed token's logit gets its bias added (−100…100). −100 is a ban made
/// exact (the logit becomes −∞, so no temperature or model scale can bring it back); +100 dominates any
/// real logit, so it forces the token in practice, as OpenAI documents.
/// </summary>
public sealed class LogitBiasProcessor : ILogitsProcessor
{
    public const float Ban = -100f;
    private readonly int[] _ids;
    private readonly float[] _biases;

    public LogitBiasProcessor(IReadOnlyDictionary<int, float> bias)
    {
        ArgumentNullException.ThrowIfNull(bias);
        _ids = [.. bias.Keys];
        _biases = [.. _ids.Select(id => bias[id])];
    }

    public void Process(Span<float> logits)
    {
        for (var i = 0; i < _ids.Length; i++)
        {
            var id = _ids[i];
            if ((uint)id >= (uint)logits.Length) continue; // validated at submit; padding rows differ per model
            logits[id] = _biases[i] <= Ban ? float.NegativeInfinity : logits[id] + _biases[i];
        }
    }

    public void OnGenerated(int tokenId) { }
}


namespace QwenAspire.Engine.Sampling;

/// <summary>The chosen token and, when asked for, its logprob and the top-N alternatives (best first).</summary>
public readonly record struct SampleResult(int TokenId, TokenLogprob? Logprob, IReadOnlyList<TokenLogprob>? TopLogprobs);

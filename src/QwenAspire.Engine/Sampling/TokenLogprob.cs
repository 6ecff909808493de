namespace QwenAspire.Engine.Sampling;

/// <summary>Log-probability of one candidate token.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>One position's logprobs: the token there (sampled or given) and, when asked for, the top alternatives.</summary>
public sealed record PositionLogprobs(TokenLogprob Chosen, IReadOnlyList<TokenLogprob>? Top);

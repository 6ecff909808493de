namespace QwenAspire.Engine.Sampling;

/// <summary>Log-probability of one candidate token.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

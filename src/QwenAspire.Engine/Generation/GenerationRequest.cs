using QwenAspire.Engine.Sampling;

namespace QwenAspire.Engine.Generation;

/// <summary>What the server submits to the engine loop: already-tokenized prompt plus sampling settings.</summary>
/// <param name="RequestId">Unique id (used in logs/telemetry and for cancellation).</param>
/// <param name="Adapter">LoRA adapter name to use, or null for the base model.</param>
public sealed record GenerationRequest(
    string RequestId,
    string? Adapter,
    IReadOnlyList<int> PromptTokens,
    SamplingParams Sampling);

namespace QwenAspire.Engine.Generation;

/// <summary>The model runner or sampler failed while serving this request (HTTP 500); other requests go on.</summary>
public sealed class InferenceFailedException(string requestId, Exception inner)
    : Exception($"Generation failed for request '{requestId}': {inner.Message}", inner)
{
    public string RequestId { get; } = requestId;
}

namespace QwenAspire.InferenceApi.Hosting;

/// <summary>
/// Optional: when registered, model loading waits until <see cref="Open"/> — so a host (tests, an
/// orchestrator warming several replicas) can observe the loading state deterministically.
/// </summary>
public sealed class ModelLoadGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _open.TrySetResult();

    public Task WaitAsync(CancellationToken cancellationToken) => _open.Task.WaitAsync(cancellationToken);
}

using TorchSharp;

namespace QwenAspire.Engine;

/// <summary>Process-wide TorchSharp settings: threads and device, chosen once before any model loads.</summary>
public static class TorchRuntime
{
    /// <summary>Resolves <c>auto|cpu|cuda</c> to a device; <c>cuda</c> fails fast when no GPU is usable.</summary>
    public static torch.Device ResolveDevice(string choice) => choice.ToLowerInvariant() switch
    {
        "cpu" => torch.CPU,
        "cuda" => torch.cuda.is_available()
            ? torch.CUDA
            : throw new InvalidOperationException("engine.device is 'cuda' but no CUDA device is available (is this a TorchBackend=cuda build?)."),
        "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        _ => throw new ArgumentException($"engine.device must be auto, cpu or cuda, not '{choice}'."),
    };

    /// <summary>Sets intra-op threads; 0 keeps libtorch's default (all cores).</summary>
    public static void SetThreads(int threads)
    {
        if (threads > 0) torch.set_num_threads(threads);
    }
}

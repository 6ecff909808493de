using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// The InferenceApi as a child process (<c>dotnet QwenAspire.InferenceApi.dll --model DIR --port P --api-key K</c>)
/// for <c>bench-serve --spawn-server</c>: started on a free loopback port, ready when /health answers 200,
/// stopped with SIGTERM (then killed) on dispose. Its output is drained and the tail kept for error messages.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private const string DllName = "QwenAspire.InferenceApi.dll";
    private readonly Process _process;
    private readonly Queue<string> _tail = new();

    private ServerProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <param name="loras">NAME=DIR pairs, each passed as the server's <c>--lora NAME=DIR</c>.</param>
    /// <param name="extraArgs">More server arguments (e.g. <c>--Engine:max_queue_length=32</c>).</param>
    public static ServerProcess Start(string dll, string modelDir, string apiKey, string? dtype, int threads, IReadOnlyList<string> loras,
        IReadOnlyList<string>? extraArgs = null)
    {
        int port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "--model", modelDir, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                    "--api-key", apiKey, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                    // Per-request information logs would cost CPU that the measurement should not pay.
                                    "--Logging:LogLevel:Default=Warning" })
            info.ArgumentList.Add(arg);
        foreach (var lora in loras)
        {
            info.ArgumentList.Add("--lora");
            info.ArgumentList.Add(lora);
        }
        if (dtype is not null)
        {
            info.ArgumentList.Add("--dtype");
            info.ArgumentList.Add(dtype);
        }
        foreach (var arg in extraArgs ?? []) info.ArgumentList.Add(arg);

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start 'dotnet'.");
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Polls /health until 200; fails early, with the server's last output, if it exits.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the server exited with code {_process.ExitCode} before it was ready. Last output:\n{Tail()}");
            try
            {
                using var response = await client.GetAsync("health", ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }                                           // not listening yet
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }       // a slow answer while loading
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"the server was not ready within {timeout.TotalSeconds:0} s (--startup-timeout). Last output:\n{Tail()}");
            await Task.Delay(250, ct);
        }
    }

    /// <summary>The InferenceApi build next to this repository's bench build (Release preferred), or null.</summary>
    public static string? FindDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var bin = Path.Combine(dir.FullName, "src", "QwenAspire.InferenceApi", "bin");
            if (!Directory.Exists(bin)) continue;
            // bin/<config>/net10.0[/<rid>]/: TorchSharp.props sets a runtime identifier, so look one level down too.
            return new[] { "Release", "Debug" }
                .Select(config => Path.Combine(bin, config, "net10.0"))
                .Where(Directory.Exists)
                .SelectMany(dir => Directory.EnumerateFiles(dir, DllName, SearchOption.AllDirectories)
                    .Where(f => Path.GetDirectoryName(f) is { } d && (d == dir || Path.GetDirectoryName(d) == dir)))
                .FirstOrDefault();
        }
        return null;
    }

    public string Tail()
    {
        lock (_tail) return string.Join('\n', _tail);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A graceful stop first, so the server's own shutdown runs; kill only if it hangs.
            if (!OperatingSystem.IsWindows()) _ = SysKill(_process.Id, 15);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try { await _process.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        }
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > 40) _tail.Dequeue();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // DllImport rather than LibraryImport: the generator would need AllowUnsafeBlocks in the shared csproj.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}

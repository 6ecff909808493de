using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests.Playground;

/// <summary>
/// A headless Chromium-family browser (Debian's chromium, Chrome or Edge) driven over its DevTools protocol: one
/// page, JavaScript evaluation, screenshots. No driver binary or package: a websocket and a few CDP methods.
/// </summary>
public sealed class HeadlessBrowser : IAsyncDisposable
{
    /// <summary>Names the browser binary explicitly (any Chromium-based browser).</summary>
    public const string BrowserVariable = "QWENASPIRE_BROWSER";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<string> _pageErrors = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Task _receiver;
    private int _nextId;

    private HeadlessBrowser(Process process, string profile, ClientWebSocket socket)
    {
        (_process, _profile, _socket) = (process, profile, socket);
        _receiver = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Console errors and uncaught exceptions of the page so far (for failure messages).</summary>
    public IReadOnlyCollection<string> PageErrors => _pageErrors;

    /// <summary>The browser to use: <see cref="BrowserVariable"/>, else the usual install paths; a clear failure when none.</summary>
    public static string FindBrowser()
    {
        if (Environment.GetEnvironmentVariable(BrowserVariable) is { Length: > 0 } named)
            return File.Exists(named) ? named : throw new InvalidOperationException($"{BrowserVariable}={named}: no such file.");
        string[] candidates = OperatingSystem.IsWindows()
            ?
            [
                Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFilesX86), @"Microsoft\Edge\Application\msedge.exe"),
                Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles), @"Microsoft\Edge\Application\msedge.exe"),
                Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles), @"Google\Chrome\Application\chrome.exe"),
                Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFilesX86), @"Google\Chrome\Application\chrome.exe"),
                Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), @"Google\Chrome\Application\chrome.exe"),
            ]
            : OperatingSystem.IsMacOS()
                ? ["/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge", "/Applications/Chromium.app/Contents/MacOS/Chromium"]
                : ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable", "/usr/bin/microsoft-edge", "/snap/bin/chromium"];
        return candidates.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            "The playground test needs a Chromium-based browser and found none (looked in: " + string.Join(", ", candidates) + "). " +
            "Run the tests through scripts/test.sh (Linux: installs Debian's chromium) or scripts/test.ps1 (Windows: Edge/Chrome), " +
            $"or install chromium / Chrome / Edge, or set {BrowserVariable} to its binary.");
    }

    public static async Task<HeadlessBrowser> LaunchAsync(CancellationToken ct)
    {
        string binary = FindBrowser();
        string profile = Path.Combine(Path.GetTempPath(), "qwenaspire-browser-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])["--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                     "--disable-extensions", "--disable-background-networking", "--disable-sync", "--metrics-recording-only",
                     "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}",
                     "--window-size=1280,860", "about:blank"])
            start.ArgumentList.Add(arg);
        if (OperatingSystem.IsLinux() && Environment.UserName == "root")
            start.ArgumentList.Insert(0, "--no-sandbox"); // Chromium refuses to run as root with its sandbox on
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {binary}");
        var output = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            // The browser writes its DevTools port (chosen by the OS) to this file once it listens.
            string portFile = Path.Combine(profile, "DevToolsActivePort");
            int port = 0;
            while (port == 0)
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"{binary} exited with {process.ExitCode} before listening:\n{Snapshot(output)}");
                if (File.Exists(portFile) && int.TryParse((await ReadSharedAsync(portFile, ct)).Split('\n')[0], out var p)) port = p;
                else await Task.Delay(100, ct);
            }
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            string? pageSocket = null;
            while (pageSocket is null)
            {
                var targets = JsonNode.Parse(await http.GetStringAsync("/json/list", ct))!.AsArray();
                pageSocket = targets.FirstOrDefault(t => (string?)t!["type"] == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
                if (pageSocket is null) await Task.Delay(100, ct);
            }
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri(pageSocket), ct);
            var browser = new HeadlessBrowser(process, profile, socket);
            await browser.SendAsync("Runtime.enable", null, ct);
            await browser.SendAsync("Page.enable", null, ct);
            return browser;
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>Opens <paramref name="url"/> and waits for its load event.</summary>
    public async Task NavigateAsync(Uri url, CancellationToken ct)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() }, ct);
        await WaitForAsync("document.readyState === 'complete' && location.href !== 'about:blank'", ct);
    }

    /// <summary>Runs <paramref name="expression"/> in the page (promises awaited) and returns its JSON value.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression, CancellationToken ct)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression, ["awaitPromise"] = true, ["returnByValue"] = true,
        }, ct);
        if (result["exceptionDetails"] is { } error)
            throw new InvalidOperationException($"page script failed: {error.ToJsonString()}\nexpression: {expression}");
        return result["result"]?["value"]?.DeepClone();
    }

    /// <summary>Polls <paramref name="condition"/> (a JavaScript expression) until it is true; <paramref name="ct"/> bounds the wait.</summary>
    public async Task WaitForAsync(string condition, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                if (await EvaluateAsync($"Boolean({condition})", ct) is JsonValue v && v.GetValue<bool>()) return;
            }
            catch (InvalidOperationException) when (!ct.IsCancellationRequested)
            {
                // A navigation in flight destroys the context the expression ran in: try again.
            }
            await Task.Delay(50, ct);
        }
    }

    public async Task<byte[]> ScreenshotAsync(CancellationToken ct)
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, ct);
        return Convert.FromBase64String((string)result["data"]!);
    }

    private async Task<JsonObject> SendAsync(string method, JsonObject? parameters, CancellationToken ct)
    {
        int id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _sendLock.WaitAsync(ct);
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, ct);
        }
        finally
        {
            _sendLock.Release();
        }
        var answer = await reply.Task.WaitAsync(ct);
        if (answer["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        return answer["result"]?.AsObject() ?? new JsonObject();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var part = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (part.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, part.Count);
                if (!part.EndOfMessage) continue;
                var json = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                if (json["id"] is { } id && _pending.TryRemove(id.GetValue<int>(), out var waiter)) waiter.TrySetResult(json);
                else Record(json);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
        foreach (var waiter in _pending.Values) waiter.TrySetException(new InvalidOperationException("the browser closed its DevTools connection"));
    }

    private void Record(JsonObject e)
    {
        string? method = (string?)e["method"];
        if (method == "Runtime.exceptionThrown")
            _pageErrors.Enqueue("exception: " + e["params"]?["exceptionDetails"]?.ToJsonString());
        else if (method == "Runtime.consoleAPICalled" && e["params"]?["type"]?.GetValue<string>() is "error" or "warning")
            _pageErrors.Enqueue("console: " + e["params"]?["args"]?.ToJsonString());
    }

    private static async Task<string> ReadSharedAsync(string path, CancellationToken ct)
    {
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return await reader.ReadToEndAsync(ct);
        }
        catch (IOException)
        {
            return ""; // being written: read again
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var close = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await SendAsync("Browser.close", null, close.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or WebSocketException)
        {
        }
        await _stop.CancelAsync();
        await _receiver;
        _socket.Dispose();
        Kill(_process);
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // The browser may still hold its profile for a moment; a temp folder left behind is only litter.
        }
        _stop.Dispose();
        _sendLock.Dispose();
    }
}

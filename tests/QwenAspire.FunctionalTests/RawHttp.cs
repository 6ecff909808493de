using System.Net.Sockets;
using System.Text;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// HTTP/1.1 by hand over a loopback socket, for what HttpClient will not send (broken chunking, lying
/// Content-Length, slow uploads, resets) and to see exactly what reached the client.
/// </summary>
public sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawHttp(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawHttp> ConnectAsync(Uri baseAddress)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        return new RawHttp(tcp);
    }

    /// <summary>Request line and headers (the test key and Host included), then the blank line.</summary>
    public Task SendHeadAsync(string method, string path, params string[] headers)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TestApp.Key}\r\n");
        foreach (var h in headers) head.Append(h).Append("\r\n");
        head.Append("\r\n");
        return SendAsync(Encoding.ASCII.GetBytes(head.ToString()));
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Reads one response: status, headers and a Content-Length or chunked body (as text).</summary>
    public async Task<(int Status, Dictionary<string, string> Headers, string Body)> ReadResponseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        int headEnd;
        while ((headEnd = IndexOf(buffer, "\r\n\r\n"u8.ToArray())) < 0)
            buffer.AddRange(chunk.AsSpan(0, await ReadSomeAsync(chunk, cts.Token)).ToArray());
        string[] lines = Encoding.ASCII.GetString(buffer.GetRange(0, headEnd).ToArray()).Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        var body = buffer.Skip(headEnd + 4).ToList();
        if (headers.TryGetValue("content-length", out var cl))
        {
            int length = int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture);
            while (body.Count < length) body.AddRange(chunk.AsSpan(0, await ReadSomeAsync(chunk, cts.Token)).ToArray());
            return (status, headers, Encoding.UTF8.GetString(body.Take(length).ToArray()));
        }
        if (headers.TryGetValue("transfer-encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (IndexOf(body, "0\r\n\r\n"u8.ToArray()) < 0) body.AddRange(chunk.AsSpan(0, await ReadSomeAsync(chunk, cts.Token)).ToArray());
            return (status, headers, Dechunk(body.ToArray()));
        }
        return (status, headers, Encoding.UTF8.GetString(body.ToArray()));
    }

    private async Task<int> ReadSomeAsync(byte[] chunk, CancellationToken ct)
    {
        int n = await _stream.ReadAsync(chunk, ct);
        return n > 0 ? n : throw new IOException("The server closed the connection before the response was complete.");
    }

    private static string Dechunk(byte[] data)
    {
        var text = new StringBuilder();
        int at = 0;
        while (true)
        {
            int lineEnd = IndexOf(data.Skip(at).ToList(), "\r\n"u8.ToArray()) + at;
            int size = Convert.ToInt32(Encoding.ASCII.GetString(data, at, lineEnd - at).Split(';')[0], 16);
            if (size == 0) return text.ToString();
            text.Append(Encoding.UTF8.GetString(data, lineEnd + 2, size));
            at = lineEnd + 2 + size + 2;
        }
    }

    private static int IndexOf(List<byte> haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Count; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    /// <summary>Closes with RST instead of FIN, as a killed client does.</summary>
    public void Reset()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0);
        _tcp.Client.Close();
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}

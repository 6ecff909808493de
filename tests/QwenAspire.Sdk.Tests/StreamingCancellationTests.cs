using System.Net;
using System.Text;
using Microsoft.Extensions.AI;

namespace QwenAspire.Sdk.Tests;

public sealed class StreamingCancellationTests
{
    /// <summary>A response body that delivers one event, then stalls like a server in a long decode step.</summary>
    private sealed class StallingStream(byte[] first) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < first.Length)
            {
                var n = Math.Min(buffer.Length, first.Length - _position);
                first.AsMemory(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }

    [Fact]
    public async Task CancellingAStalledStreamEndsTheEnumeration()
    {
        const string firstEvent = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
        var server = new RecordedServer().Enqueue(() => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new StallingStream(Encoding.UTF8.GetBytes(firstEvent))),
        });
        using var client = server.CreateClient();
        using var cts = new CancellationTokenSource();
        var received = new List<string>();

        var enumeration = Task.Run(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("hi", cancellationToken: cts.Token))
            {
                received.Add(update.Text);
                cts.Cancel();
            }
        });

        var finished = await Task.WhenAny(enumeration, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.Same(enumeration, finished);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => enumeration);
        Assert.Equal(["Hi"], received);
    }

    [Fact]
    public async Task TimeoutOptionBoundsAStalledStream()
    {
        var server = new RecordedServer().Enqueue(() => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new StallingStream([])),
        });
        using var client = new QwenChatClient(new HttpClient(server),
            new QwenClientOptions { Endpoint = new Uri("http://qwen.test"), Model = "m", Timeout = TimeSpan.FromMilliseconds(300) });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync("hi"))
            {
            }
        });
    }
}

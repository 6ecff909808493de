using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Server-sent events the way OpenAI sends them and Dify reads them: <c>data: {json}\n\n</c>, one line per
/// event, no <c>event:</c> lines, flushed per event, ending with <c>data: [DONE]</c>. JSON is written compact,
/// so an event never spans lines; text deltas are whole characters (the engine never splits UTF-8).
/// </summary>
public sealed partial class SseWriter(HttpResponse response)
{
    private static readonly byte[] s_prefix = "data: "u8.ToArray();
    private static readonly byte[] s_suffix = "\n\n"u8.ToArray();
    private static readonly byte[] s_event = "event: "u8.ToArray();
    private static readonly byte[] s_newline = "\n"u8.ToArray();
    private static readonly byte[] s_done = "data: [DONE]\n\n"u8.ToArray();

    private Utf8JsonWriter? _json;

    public bool Started => response.HasStarted;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx in front of Dify must not buffer the stream
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// A whole stream: headers, the events <paramref name="writeEvents"/> writes, then [DONE]. A failure after
    /// the first byte (the status line is gone) becomes an <c>{"error":…}</c> event, then [DONE]; a client
    /// that went away gets nothing more.
    /// </summary>
    /// <param name="writeError">How a failure is written (default: the error envelope, then [DONE]).</param>
    /// <param name="endWithDone">False for streams that end with their own last event (Responses), not [DONE].</param>
    public async Task StreamAsync(Func<CancellationToken, Task> writeEvents, string responseId, ILogger logger, CancellationToken cancellationToken,
        Func<ApiError, CancellationToken, Task>? writeError = null, bool endWithDone = true)
    {
        await StartAsync(cancellationToken);
        try
        {
            await writeEvents(cancellationToken);
            if (endWithDone) await WriteDoneAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && cancellationToken.IsCancellationRequested
                                   || ex is Microsoft.AspNetCore.Connections.ConnectionResetException or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
        {
            // The client left: disposing the choice streams cancels the engine work.
            LogClientGone(logger, responseId, ex.GetType().Name);
        }
        catch (Exception ex)
        {
            LogStreamFailed(logger, responseId, ex);
            await (writeError ?? WriteErrorAsync)(EngineErrors.From(ex) ?? ApiError.Internal(responseId), cancellationToken);
        }
    }

    /// <summary>One event, serialized straight into the response pipe (no intermediate array) and flushed.</summary>
    public Task WriteAsync<T>(T payload, CancellationToken cancellationToken) => WriteAsync(null, payload, cancellationToken);

    /// <summary>An event with an <c>event:</c> line before its data (the Responses API names every event).</summary>
    public async Task WriteAsync<T>(string? eventName, T payload, CancellationToken cancellationToken)
    {
        var pipe = response.BodyWriter;
        if (eventName is not null)
        {
            pipe.Write(s_event);
            pipe.Write(Encoding.UTF8.GetBytes(eventName));
            pipe.Write(s_newline);
        }
        pipe.Write(s_prefix);
        // The writer's options, not the serializer's, decide escaping when a writer is passed in.
        _json ??= new Utf8JsonWriter(pipe, new JsonWriterOptions { Encoder = ProtocolJson.Options.Encoder, SkipValidation = true });
        _json.Reset(pipe);
        JsonSerializer.Serialize(_json, payload, ProtocolJson.Options);
        _json.Flush();
        pipe.Write(s_suffix);
        await pipe.FlushAsync(cancellationToken);
    }

    /// <summary>An error after the stream started: an <c>{"error":…}</c> event, then [DONE].</summary>
    public async Task WriteErrorAsync(ApiError error, CancellationToken cancellationToken)
    {
        await WriteAsync(error.ToResponse(), cancellationToken);
        await WriteDoneAsync(cancellationToken);
    }

    public async Task WriteDoneAsync(CancellationToken cancellationToken)
    {
        response.BodyWriter.Write(s_done);
        await response.BodyWriter.FlushAsync(cancellationToken);
    }

    /// <summary>Text of one event as it goes on the wire (tests and docs).</summary>
    public static string Format<T>(T payload) =>
        "data: " + Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(payload, ProtocolJson.Options)) + "\n\n";

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stream {ResponseId}: the client went away ({Kind}).")]
    private static partial void LogClientGone(ILogger logger, string responseId, string kind);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {ResponseId} failed after it started.")]
    private static partial void LogStreamFailed(ILogger logger, string responseId, Exception exception);
}

using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// server.max_request_body_bytes, enforced so that every client can read its 413. Kestrel's own limit answers
/// while the client is still sending and then closes the socket with unread data, which the client sees as a
/// reset (EPIPE, "Connection error") instead of the 413, and retries the whole upload. Here Kestrel's hard cap
/// is raised to <see cref="DrainBound"/>: an oversized body is read and discarded (up to that bound, within
/// <see cref="DrainTime"/>) before the 413 goes out, so the connection even stays usable; only a body beyond
/// the bound, or one sent too slowly, gets the 413 with <c>Connection: close</c> at once.
/// </summary>
public sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<ServerOptions> server)
{
    public static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(30);
    private static readonly object s_limitKey = new();

    public static long DrainBound(long limit) => Math.Max(4 * limit, 64L * 1024 * 1024);

    /// <summary>The configured limit for this request (null outside the middleware, e.g. unit tests).</summary>
    public static long? LimitOf(HttpContext context) => context.Items.TryGetValue(s_limitKey, out var v) ? (long?)v : null;

    public async Task InvokeAsync(HttpContext context)
    {
        long limit = server.Value.MaxRequestBodyBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = DrainBound(limit);
            context.Items[s_limitKey] = limit;
        }
        if (context.Request.ContentLength is { } length && length > limit)
        {
            if (length > DrainBound(limit) || !await TryDrainAsync(context))
                context.Response.Headers.Connection = "close";
            await ApiError.BodyTooLarge(limit).WriteAsync(context);
            return;
        }
        await next(context);
    }

    /// <summary>Reads the rest of the body and throws it away; false when it could not be read to its end in time.</summary>
    public static async Task<bool> TryDrainAsync(HttpContext context)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(DrainTime);
        PipeReader body = context.Request.BodyReader;
        try
        {
            while (true)
            {
                var read = await body.ReadAsync(timeout.Token);
                body.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) return true;
                if (read.IsCanceled) return false;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or BadHttpRequestException or IOException)
        {
            return false; // too slow, beyond the bound, or the client left: close after the 413
        }
    }
}

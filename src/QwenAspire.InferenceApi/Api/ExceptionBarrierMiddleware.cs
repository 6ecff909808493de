using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// Nothing escapes as a bare 500 or a stack trace: an oversized body becomes 413, an unreadable one 400,
/// anything else 500 with the OpenAI envelope and a request id to find the logged exception.
/// </summary>
public sealed partial class ExceptionBarrierMiddleware(RequestDelegate next, ILogger<ExceptionBarrierMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (ClientGone(context, ex))
        {
            // The client left (reset, closed mid-body or mid-stream): nothing to answer and nothing wrong here.
            LogClientGone(logger, context.TraceIdentifier, context.Request.Method, context.Request.Path, ex.GetType().Name, ex.Message);
            // Without this Kestrel tries to drain the body of a dead connection and logs that as an error.
            context.Abort();
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            var error = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ApiError.BodyTooLarge(null)
                : new ApiError(ex.StatusCode, "The request could not be read: " + ex.Message, ApiError.InvalidRequest, null, "bad_request");
            await error.WriteAsync(context);
        }
        catch (Exception ex)
        {
            LogUnhandled(logger, context.TraceIdentifier, context.Request.Method, context.Request.Path, ex);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }
            context.Response.Clear();
            await ApiError.Internal(context.TraceIdentifier).WriteAsync(context);
        }
    }

    /// <summary>A reset or abort by the client, as opposed to a failure of the server.</summary>
    public static bool ClientGone(HttpContext context, Exception ex) =>
        context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException
        || ex is Microsoft.AspNetCore.Connections.ConnectionResetException
        || ex is Microsoft.AspNetCore.Connections.ConnectionAbortedException;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client went away during {RequestId} ({Method} {Path}): {Kind}: {Reason}")]
    private static partial void LogClientGone(ILogger logger, string requestId, string method, string path, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in request {RequestId} ({Method} {Path}).")]
    private static partial void LogUnhandled(ILogger logger, string requestId, string method, string path, Exception exception);
}

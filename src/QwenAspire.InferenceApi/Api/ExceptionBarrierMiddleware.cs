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
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; there is no one to answer.
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in request {RequestId} ({Method} {Path}).")]
    private static partial void LogUnhandled(ILogger logger, string requestId, string method, string path, Exception exception);
}

using System.Net;

namespace QwenAspire.Sdk;

/// <summary>
/// An error answered by the server in the OpenAI envelope <c>{"error":{"message","type","param","code"}}</c>,
/// either as an HTTP error status or as an error event inside a stream.
/// </summary>
public sealed class QwenApiException : Exception
{
    /// <summary>Creates the exception from the fields of an error envelope.</summary>
    public QwenApiException(string message, HttpStatusCode? statusCode, string? type, string? code, string? param,
        TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorType = type;
        Code = code;
        Param = param;
        RetryAfter = retryAfter;
    }

    /// <summary>HTTP status; for an error event inside a stream, the status of the stream (usually 200).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary><c>error.type</c>, e.g. <c>invalid_request_error</c>.</summary>
    public string? ErrorType { get; }

    /// <summary><c>error.code</c>, e.g. <c>context_length_exceeded</c> (numbers are kept as their text).</summary>
    public string? Code { get; }

    /// <summary><c>error.param</c>: the request field at fault, when the server names one.</summary>
    public string? Param { get; }

    /// <summary>The server's <c>Retry-After</c> (429/503), when sent.</summary>
    public TimeSpan? RetryAfter { get; }
}

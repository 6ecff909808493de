namespace QwenAspire.InferenceApi.Protocol;

/// <summary>
/// An error the API answers with: HTTP status plus OpenAI envelope. Handlers and validation return these
/// (they never throw for bad input); <see cref="ToResult"/> writes them.
/// </summary>
public sealed record ApiError(int Status, string Message, string Type, string? Param = null, string? Code = null, TimeSpan? RetryAfter = null)
{
    public const string InvalidRequest = "invalid_request_error";

    public static ApiError BadRequest(string message, string? param = null, string? code = "invalid_value") =>
        new(StatusCodes.Status400BadRequest, message, InvalidRequest, param, code);

    public static ApiError MissingField(string param) =>
        BadRequest($"'{param}' is a required property.", param, "missing_required_parameter");

    public static ApiError ModelNotFound(string model, IEnumerable<string> served) =>
        new(StatusCodes.Status404NotFound,
            $"The model '{model}' does not exist. Served models: {string.Join(", ", served)}.",
            InvalidRequest, "model", "model_not_found");

    public static ApiError RuntimeLoraDisabled() =>
        new(StatusCodes.Status403Forbidden,
            "Loading and unloading LoRA adapters at run time is disabled on this server; set engine.allow_runtime_lora: true " +
            "and list the adapter folders in engine.lora_roots to enable it.", InvalidRequest, null, "runtime_lora_disabled");

    public static ApiError LoraAdapterNotFound(string name, IEnumerable<string> loaded) =>
        new(StatusCodes.Status404NotFound,
            $"The lora adapter '{name}' cannot be found. Loaded adapters: {(loaded.Any() ? string.Join(", ", loaded) : "none")}.",
            InvalidRequest, "lora_name", "lora_adapter_not_found");

    public static ApiError ContextLengthExceeded(int promptTokens, int maxContext) =>
        BadRequest($"This model's maximum context length is {maxContext} tokens, but the prompt has {promptTokens} tokens. " +
                   "Shorten the messages or the prompt.", "messages", "context_length_exceeded");

    public static ApiError Unauthorized(bool keyGiven) =>
        new(StatusCodes.Status401Unauthorized,
            keyGiven ? "Incorrect API key provided." : "You didn't provide an API key. Send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'.",
            InvalidRequest, null, keyGiven ? "invalid_api_key" : "missing_api_key");

    public static ApiError BodyTooLarge(long? limit) =>
        new(StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than the server's limit{(limit is { } l ? $" of {l} bytes" : "")}.",
            InvalidRequest, null, "request_too_large");

    public static ApiError NotReady(string? detail) =>
        new(StatusCodes.Status503ServiceUnavailable,
            "The model is still loading; retry shortly." + (detail is null ? "" : " " + detail), "server_error", null, "model_not_ready",
            TimeSpan.FromSeconds(5));

    public static ApiError ShuttingDown() =>
        new(StatusCodes.Status503ServiceUnavailable,
            "The server is shutting down and takes no new requests; retry on another instance or after it restarts.",
            "server_error", null, "server_shutting_down", TimeSpan.FromSeconds(5));

    public static ApiError Overloaded(TimeSpan retryAfter) =>
        new(StatusCodes.Status429TooManyRequests,
            $"The server is busy (request queue full); retry after {Math.Ceiling(retryAfter.TotalSeconds):0} s.",
            "rate_limit_error", null, "queue_full", retryAfter);

    public static ApiError Internal(string requestId) =>
        new(StatusCodes.Status500InternalServerError,
            $"The server had an error while processing the request (request id {requestId}).", "server_error", null, "internal_error");

    public static ApiError NotFoundRoute(string method, string path) =>
        new(StatusCodes.Status404NotFound, $"No route for {method} {path}.", InvalidRequest, null, "not_found");

    public static ApiError UnsupportedMediaType(string? contentType) =>
        new(StatusCodes.Status415UnsupportedMediaType,
            $"The request body must be JSON (Content-Type: application/json); got {(string.IsNullOrEmpty(contentType) ? "no Content-Type" : $"'{Truncate(contentType, 100)}'")}.",
            InvalidRequest, null, "unsupported_media_type");

    public static ApiError MethodNotAllowed(string method, string path) =>
        new(StatusCodes.Status405MethodNotAllowed, $"Method {method} is not allowed on {path}.", InvalidRequest, null, "method_not_allowed");

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    public ErrorResponse ToResponse() => new(new ErrorInfo(Message, Type, Param, Code));

    public IResult ToResult() => new ErrorResult(this);

    /// <summary>Writes the envelope directly (middleware paths that have no endpoint result).</summary>
    public Task WriteAsync(HttpContext context) => ToResult().ExecuteAsync(context);

    private sealed class ErrorResult(ApiError error) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => error.Status;

        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = error.Status;
            if (error.RetryAfter is { } retry)
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return context.Response.WriteAsJsonAsync(error.ToResponse(), ProtocolJson.Options, context.RequestAborted);
        }
    }
}

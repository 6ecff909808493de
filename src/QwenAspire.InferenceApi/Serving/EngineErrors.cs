using QwenAspire.Engine.Generation;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>Maps the engine's refusals (thrown before the first token) to API errors.</summary>
public static class EngineErrors
{
    public static ApiError? From(Exception ex) => ex switch
    {
        EngineOverloadedException overloaded => ApiError.Overloaded(overloaded.RetryAfter),
        // Submitted in the moment between the shutdown check and the engine closing its queue.
        ObjectDisposedException => ApiError.ShuttingDown(),
        ContextLengthExceededException tooLong => ApiError.ContextLengthExceeded(tooLong.PromptTokens, tooLong.MaxContextLength),
        ArgumentException argument => ApiError.BadRequest(argument.Message, WireName(argument.ParamName)),
        _ => null,
    };

    /// <summary>Engine parameter names are C# (Temperature, TopP); the wire uses snake_case.</summary>
    private static string? WireName(string? param) =>
        param is null ? null : System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(param);
}

using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// Every path but the public ones needs a key in <c>x-api-key</c> or <c>Authorization: Bearer</c>;
/// otherwise 401 with the OpenAI envelope. Runs before routing, so unknown paths need a key too.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyStore keys)
{
    /// <summary>Health probes, the API reference UI and the OpenAPI document.</summary>
    public static readonly string[] PublicPrefixes = ["/health", "/alive", "/scalar", "/openapi"];

    public Task InvokeAsync(HttpContext context)
    {
        if (IsPublic(context.Request.Path)) return next(context);
        string? key = ReadKey(context.Request);
        return keys.IsValid(key) ? next(context) : ApiError.Unauthorized(keyGiven: key is not null).WriteAsync(context);
    }

    public static bool IsPublic(PathString path) =>
        PublicPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    private static string? ReadKey(HttpRequest request)
    {
        if (request.Headers["x-api-key"].FirstOrDefault() is { Length: > 0 } apiKey) return apiKey.Trim();
        string? auth = request.Headers.Authorization.FirstOrDefault();
        if (auth is null) return null;
        const string bearer = "Bearer ";
        return auth.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? auth[bearer.Length..].Trim() : auth.Trim();
    }
}

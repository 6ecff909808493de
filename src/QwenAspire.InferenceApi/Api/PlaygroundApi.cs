using System.Collections.Frozen;
using System.Reflection;
using Microsoft.Net.Http.Headers;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// The chat playground: <c>GET /</c> (and <c>/playground</c>) serves a static page embedded in this assembly, which
/// calls <c>/v1/models</c> and <c>/v1/chat/completions</c> with the key the user types (kept in the page's local
/// storage). The page holds no secret, so it is served before the key check; its API calls still need a key.
/// </summary>
public static class PlaygroundApi
{
    private const string ResourcePrefix = "QwenAspire.InferenceApi.Playground.";

    /// <summary>Request path → (embedded resource, content type).</summary>
    private static readonly FrozenDictionary<string, (string Resource, string ContentType)> Assets =
        new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase)
        {
            ["/"] = ("index.html", "text/html; charset=utf-8"),
            ["/playground"] = ("index.html", "text/html; charset=utf-8"),
            ["/playground/"] = ("index.html", "text/html; charset=utf-8"),
            ["/playground/playground.css"] = ("playground.css", "text/css; charset=utf-8"),
            ["/playground/playground.js"] = ("playground.js", "text/javascript; charset=utf-8"),
        }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Only our own files, no inline script, no framing: what the page needs and nothing it could be abused with.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static readonly Lazy<FrozenDictionary<string, byte[]>> Files = new(LoadFiles);

    /// <summary>Serves the playground's files; every other request goes on to the API pipeline (and its key check).</summary>
    public static WebApplication UsePlayground(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var request = context.Request;
            if (!(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                || !Assets.TryGetValue(request.Path.Value ?? "", out var asset))
                return next(context);
            return ServeAsync(context, asset.Resource, asset.ContentType);
        });
        return app;
    }

    private static async Task ServeAsync(HttpContext context, string resource, string contentType)
    {
        var body = Files.Value[resource];
        var response = context.Response;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        response.Headers[HeaderNames.CacheControl] = "no-cache"; // small files; a new server version shows at once
        response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        response.Headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (!HttpMethods.IsHead(context.Request.Method))
            await response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static FrozenDictionary<string, byte[]> LoadFiles()
    {
        var assembly = typeof(PlaygroundApi).Assembly;
        return Assets.Values.Select(a => a.Resource).Distinct().ToFrozenDictionary(name => name, name => Read(assembly, name));
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"Embedded playground file '{ResourcePrefix + name}' is missing from {assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

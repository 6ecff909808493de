using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.RegularExpressions;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// Reads a request body into a wire type, turning every way it can be wrong into an OpenAI error that
/// names the field: malformed JSON, wrong types, a body that is not an object, a body over the size limit.
/// Unknown fields are accepted and logged once per name (whatever the route), for the first
/// <see cref="MaxReportedUnknownFields"/> names: the names are the client's, so the set must stay bounded.
/// </summary>
public sealed partial class JsonBodyReader(ILogger<JsonBodyReader> logger)
{
    public const int MaxReportedUnknownFields = 256;
    private const int MaxLoggedNameLength = 64;

    private readonly ConcurrentDictionary<string, bool> _reportedUnknown = new(StringComparer.Ordinal);

    public async Task<(T? Body, ApiError? Error)> ReadAsync<T>(HttpRequest request, Func<T, Dictionary<string, JsonElement>?> unknown)
        where T : class
    {
        T? body;
        var pipe = request.BodyReader;
        ReadResult read;
        try
        {
            // The whole body first (Kestrel caps it at server.max_request_body_bytes): its text is checked before any
            // field is bound, then bound from the same buffer.
            while (true)
            {
                read = await pipe.ReadAsync(request.HttpContext.RequestAborted);
                if (read.IsCompleted || read.IsCanceled) break;
                pipe.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, ApiError.BodyTooLarge(request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize));
        }
        try
        {
            if (JsonTextCheck.FindInvalidText(read.Buffer) is { } invalid)
                return (null, ApiError.BadRequest(invalid, null, "invalid_json"));
            body = Deserialize<T>(read.Buffer);
        }
        catch (JsonException ex)
        {
            return (null, FromJsonException(ex));
        }
        finally
        {
            pipe.AdvanceTo(read.Buffer.End);
        }
        if (body is null)
            return (null, ApiError.BadRequest("The request body must be a JSON object.", null, "invalid_json"));

        if (unknown(body) is { Count: > 0 } fields)
            foreach (var name in fields.Keys)
            {
                if (_reportedUnknown.Count >= MaxReportedUnknownFields) break;
                if (_reportedUnknown.TryAdd(name, true))
                    LogUnknownField(logger, name.Length <= MaxLoggedNameLength ? name : name[..MaxLoggedNameLength] + "…", request.Path);
            }
        return (body, null);
    }

    private static T? Deserialize<T>(ReadOnlySequence<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            AllowTrailingCommas = ProtocolJson.Options.AllowTrailingCommas,
            CommentHandling = ProtocolJson.Options.ReadCommentHandling,
            MaxDepth = ProtocolJson.Options.MaxDepth,
        });
        return JsonSerializer.Deserialize<T>(ref reader, ProtocolJson.Options);
    }

    internal static ApiError FromJsonException(JsonException ex)
    {
        // Text the reader could not decode (bad UTF-8, a lone surrogate) comes wrapped; it is not a type mismatch
        // (which also wraps an InvalidOperationException, "Cannot get the value of a token type ...").
        if (ex.InnerException is InvalidOperationException text && text.Message.Contains("UTF-", StringComparison.Ordinal))
            return ApiError.BadRequest($"The request body is not valid JSON: {FirstSentence(text.Message)}" +
                                       (ex.Path is { Length: > 2 } at ? $" (at {at})" : ""), null, "invalid_json");
        string? param = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        string detail = FirstSentence(ex.Message);
        var converted = ConvertedTo().Match(ex.Message);
        if (param is not null && converted.Success)
            return ApiError.BadRequest($"'{param}' has the wrong type: expected {Describe(converted.Groups[1].Value)}.", param, "invalid_type");
        if (param is null && converted.Success)
            return ApiError.BadRequest("The request body must be a JSON object.", null, "invalid_json");
        return ApiError.BadRequest($"The request body is not valid JSON: {detail}" +
                                   (ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : ""),
            null, "invalid_json");
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Trim();
    }

    private static string Describe(string clrType) => clrType switch
    {
        _ when clrType.Contains("Single") || clrType.Contains("Double") => "a number",
        _ when clrType.Contains("Int32") || clrType.Contains("Int64") => "an integer",
        _ when clrType.Contains("Boolean") => "true or false",
        _ when clrType.Contains("String") && !clrType.Contains("List") => "a string",
        _ when clrType.Contains("List") || clrType.Contains("JsonArray") => "an array",
        _ => "an object",
    };

    [GeneratedRegex(@"could not be converted to (\S+?)\.?\s")]
    private static partial Regex ConvertedTo();

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignoring unknown request field '{Field}' on {Path} (logged once).")]
    private static partial void LogUnknownField(ILogger logger, string field, string path);
}

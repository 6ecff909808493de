using System.Buffers;
using System.Text.Json;

namespace QwenAspire.InferenceApi.Api;

/// <summary>
/// One forward pass over a JSON body that decodes every string and property name, so text that is not valid
/// Unicode (a lone <c>\ud800</c> escape, a raw 0xFF byte) is refused up front with its position. Without it
/// the fault surfaces wherever a field happens to be read later (a <see cref="JsonElement"/> in a content part,
/// a tool's arguments) as an <see cref="InvalidOperationException"/>, i.e. a 500.
/// </summary>
internal static class JsonTextCheck
{
    /// <summary>Null when every string decodes; else a message naming the problem and where it is.</summary>
    public static string? FindInvalidText(ReadOnlySequence<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName)) continue;
                try
                {
                    Decode(ref reader);
                }
                catch (InvalidOperationException ex)
                {
                    var what = reader.TokenType == JsonTokenType.PropertyName ? "a property name" : "a string";
                    return $"The request body is not valid JSON: {what} at byte {reader.TokenStartIndex + 1} is not valid Unicode ({FirstSentence(ex.Message)}).";
                }
            }
        }
        catch (JsonException)
        {
            // Malformed JSON is reported by the deserializer, with its own position and wording.
            return null;
        }
        return null;
    }

    private static readonly ThreadLocal<char[]> s_sink = new(() => new char[4096]);

    /// <summary>Decodes the current string (escapes included), which throws on invalid UTF-8 or a lone surrogate.</summary>
    private static void Decode(ref Utf8JsonReader reader)
    {
        // Most strings are short: decode them into a reused buffer instead of allocating each (GetString).
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        var sink = s_sink.Value!;
        if (length <= sink.Length) reader.CopyString(sink);
        else _ = reader.GetString();
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message.TrimEnd('.')).Trim();
    }
}

using System.Runtime.CompilerServices;
using System.Text;

namespace QwenAspire.Sdk.Wire;

/// <summary>
/// Minimal server-sent-events reader: yields the <c>data</c> of each event (several <c>data:</c> lines of one
/// event joined by <c>\n</c>), skips comment lines (<c>:</c>) and other fields, stops at end of stream.
/// </summary>
internal static class SseReader
{
    public static async IAsyncEnumerable<string> ReadEventsAsync(Stream stream,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
        var data = new StringBuilder();
        var hasData = false;
        while (true)
        {
            // ReadLineAsync(CancellationToken) aborts a pending read, so a stalled server cannot hang the caller.
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
                break;
            if (line.Length == 0)
            {
                if (hasData)
                {
                    yield return data.ToString();
                    data.Clear();
                    hasData = false;
                }
                continue;
            }
            if (line[0] == ':')
                continue;
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            if (field != "data")
                continue;
            var value = colon < 0 ? string.Empty : line[(colon + 1)..];
            if (value.StartsWith(' '))
                value = value[1..];
            if (hasData)
                data.Append('\n');
            data.Append(value);
            hasData = true;
        }
        if (hasData)
            yield return data.ToString();
    }
}

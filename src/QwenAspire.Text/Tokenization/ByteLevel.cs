namespace QwenAspire.Text.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ printable-char map: BPE vocabularies spell every byte as one visible char
/// so that tokens never contain raw whitespace or control bytes.
/// </summary>
internal static class ByteLevel
{
    /// <summary>Char used in vocab strings for each byte value.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>Byte value for each mapped char (index = char), or -1 where the char is not a mapped one.</summary>
    public static readonly short[] CharToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var extra = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[512];
        Array.Fill(map, (short)-1);
        for (var b = 0; b < 256; b++) map[ByteToChar[b]] = (short)b;
        return map;
    }

    /// <summary>
    /// Bytes a token string stands for, as HF's ByteLevel decoder computes them: mapped chars give their
    /// byte; a token holding any unmapped char (e.g. an added token with a raw space) gives its own UTF-8.
    /// </summary>
    public static byte[] TokenToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            var b = c < CharToByte.Length ? CharToByte[c] : (short)-1;
            if (b < 0) return System.Text.Encoding.UTF8.GetBytes(token);
            bytes[i] = (byte)b;
        }
        return bytes;
    }

    /// <summary>The vocab spelling of raw bytes.</summary>
    public static string BytesToToken(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, src) =>
        {
            for (var i = 0; i < src.Length; i++) span[i] = ByteToChar[src[i]];
        });
    }
}

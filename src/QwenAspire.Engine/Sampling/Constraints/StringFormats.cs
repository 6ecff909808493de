namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// The JSON Schema <c>format</c>s the grammar can enforce, as patterns in <see cref="RegexCompiler"/>'s subset.
/// Each generates only values that are valid by the format's RFC (dates check month lengths and leap years;
/// times use upper-case T/Z and no leap second, a strict subset), so any validator asserting formats accepts
/// them. Other formats are refused rather than ignored.
/// </summary>
public static class StringFormats
{
    private const string Year = @"\d{4}";
    private const string LeapYear = @"(\d\d(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)";
    private const string Date =
        "(" + Year + "-(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
        + "|" + Year + "-(0[469]|11)-(0[1-9]|[12][0-9]|30)"
        + "|" + Year + "-02-(0[1-9]|1[0-9]|2[0-8])"
        + "|" + LeapYear + "-02-29)";
    private const string Time = @"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";
    private const string Octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    private const string Label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    /// <summary>A top-level label starts with a letter (validators refuse all-digit TLDs, which read as IP addresses).</summary>
    private const string LastLabel = "[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";

    private static readonly Dictionary<string, string> s_patterns = new(StringComparer.Ordinal)
    {
        ["date"] = "^" + Date + "$",
        ["time"] = "^" + Time + "$",
        ["date-time"] = "^" + Date + "T" + Time + "$",
        ["uuid"] = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        ["ipv4"] = "^" + Octet + @"(\." + Octet + "){3}$",
        // Dot-atoms only (no quoted local parts or IP literals): what every email validator accepts.
        ["email"] = @"^[A-Za-z0-9_+-]{1,32}(\.[A-Za-z0-9_+-]{1,32}){0,3}@(" + Label + @"\.){1,3}[A-Za-z]{2,24}$", // top-level domain: letters (what email validators require)
        ["hostname"] = "^(" + Label + @"\.){0,3}" + LastLabel + "$",
    };

    public static IReadOnlyCollection<string> Supported => s_patterns.Keys;

    public static bool TryGetPattern(string format, out string pattern) => s_patterns.TryGetValue(format, out pattern!);
}

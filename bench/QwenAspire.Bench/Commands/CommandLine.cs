namespace QwenAspire.Bench.Commands;

/// <summary>Minimal <c>--name value</c> option parsing shared by the bench commands.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    public CommandLine(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected '--option value', got '{args[i]}'.");
            _options[args[i][2..]] = args[++i];
        }
    }

    public string? Get(string name) => _options.GetValueOrDefault(name);
    public string Require(string name) => Get(name) ?? throw new ArgumentException($"--{name} is required.");
    public int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
    public long Long(string name, long fallback) => Get(name) is { } v ? long.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

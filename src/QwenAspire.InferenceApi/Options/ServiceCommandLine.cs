namespace QwenAspire.InferenceApi.Options;

/// <summary>
/// The service's own switches, turned into configuration keys. Repeatable switches (<c>--lora</c>,
/// <c>--api-key</c>) cannot go through ASP.NET's switch mappings (last one wins), so they are parsed here;
/// everything not ours (e.g. <c>--urls</c>, <c>--Logging:LogLevel:Default=Debug</c>) passes through.
/// </summary>
public sealed class ServiceCommandLine
{
    public const string DefaultConfigFile = "service_config.yaml";

    private static readonly Dictionary<string, string> s_single = new(StringComparer.Ordinal)
    {
        ["--model"] = "model:path",
        ["--served-model-name"] = "model:served_model_name",
        ["--dtype"] = "model:dtype",
        ["--device"] = "engine:device",
        ["--threads"] = "engine:threads",
        ["--quantization"] = "engine:quantization",
        ["--quantization-cache"] = "engine:quantization_cache",
        ["--host"] = "server:host",
        ["--port"] = "server:port",
    };

    private ServiceCommandLine(Dictionary<string, string?> values, List<string> remaining, string configFile, bool configExplicit, bool endpointExplicit)
    {
        Values = values;
        RemainingArgs = remaining;
        ConfigFile = configFile;
        ConfigFileExplicit = configExplicit;
        EndpointExplicit = endpointExplicit;
    }

    /// <summary>Configuration keys set on the command line (highest precedence).</summary>
    public IReadOnlyDictionary<string, string?> Values { get; }
    /// <summary>Arguments for ASP.NET's own command-line provider.</summary>
    public IReadOnlyList<string> RemainingArgs { get; }
    public string ConfigFile { get; }
    public bool ConfigFileExplicit { get; }
    /// <summary>True when --host or --port was given: they then win over <c>urls</c>/ASPNETCORE_URLS.</summary>
    public bool EndpointExplicit { get; }

    /// <exception cref="ArgumentException">A switch lacks its value or has a malformed one (message names it).</exception>
    public static ServiceCommandLine Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var remaining = new List<string>();
        string configFile = DefaultConfigFile;
        bool configExplicit = false, endpointExplicit = false;
        int apiKeys = 0;

        for (int i = 0; i < args.Count; i++)
        {
            var (name, inline) = SplitSwitch(args[i]);
            bool ours = name is "--config" or "--lora" or "--api-key" || s_single.ContainsKey(name);
            if (!ours)
            {
                remaining.Add(args[i]);
                continue;
            }

            string value = inline ?? (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new ArgumentException($"Command-line switch '{name}' needs a value."));

            switch (name)
            {
                case "--config":
                    configFile = value;
                    configExplicit = true;
                    break;
                case "--lora":
                    int eq = value.IndexOf('=');
                    if (eq <= 0 || eq == value.Length - 1)
                        throw new ArgumentException($"--lora expects NAME=DIR, got '{value}'.");
                    values[$"model:adapters:{value[..eq]}"] = value[(eq + 1)..];
                    break;
                case "--api-key":
                    values[$"server:api_keys:{apiKeys++}"] = value;
                    break;
                default:
                    values[s_single[name]] = value;
                    endpointExplicit |= name is "--host" or "--port";
                    break;
            }
        }
        return new ServiceCommandLine(values, remaining, configFile, configExplicit, endpointExplicit);
    }

    private static (string Name, string? Inline) SplitSwitch(string arg)
    {
        if (!arg.StartsWith("--", StringComparison.Ordinal)) return (arg, null);
        int eq = arg.IndexOf('=');
        return eq < 0 ? (arg, null) : (arg[..eq], arg[(eq + 1)..]);
    }
}

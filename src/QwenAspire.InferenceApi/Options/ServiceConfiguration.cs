using Microsoft.Extensions.Configuration.EnvironmentVariables;
using NetEscapades.Configuration.Yaml;

namespace QwenAspire.InferenceApi.Options;

/// <summary>
/// Lays out the configuration layers: command line &gt; environment &gt; service_config.yaml &gt; defaults.
/// Environment overrides use ASP.NET's form (<c>MODEL__PATH</c>, <c>SERVER__PORT</c>, <c>DIFY__API_KEY</c>).
/// </summary>
public static class ServiceConfiguration
{
    /// <summary>The environment variable the old service read its key from.</summary>
    public const string OpenAiApiKeyVariable = "OPENAI_API_KEY";

    /// <summary>
    /// Log levels below every other source (appsettings, YAML <c>Logging:</c>, <c>Logging__LogLevel__…</c> override
    /// them): ASP.NET's two lines per request (each /health poll included) and the health-check service's
    /// <c>fail:</c> for the expected 503 while the model loads are off; the server's own lines stay — loading
    /// progress, "Ready", and one line per generation request.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> DefaultLogLevels = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "Critical",
        ["Logging:LogLevel:Microsoft.Extensions.Http"] = "Warning",
    };

    public static void AddServiceConfiguration(this WebApplicationBuilder builder, ServiceCommandLine commandLine)
    {
        var sources = builder.Configuration.Sources;
        sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = DefaultLogLevels });
        string? path = ResolveConfigFile(commandLine, builder.Environment.ContentRootPath);

        // YAML sits just below the first environment-variable source, so env and command line override it.
        int envIndex = sources.ToList().FindIndex(s => s is EnvironmentVariablesConfigurationSource);
        if (path is not null)
        {
            var yaml = new YamlConfigurationSource { Path = path, Optional = false, ReloadOnChange = false };
            yaml.ResolveFileProvider();
            sources.Insert(envIndex < 0 ? sources.Count : envIndex, yaml);
        }

        builder.Configuration.AddInMemoryCollection(commandLine.Values);
        builder.Services.AddSingleton(new ConfigurationSourceInfo(path, commandLine.EndpointExplicit));
    }

    private static string? ResolveConfigFile(ServiceCommandLine commandLine, string contentRoot)
    {
        string file = commandLine.ConfigFile;
        string[] candidates = Path.IsPathRooted(file)
            ? [file]
            : [Path.GetFullPath(file), Path.Combine(contentRoot, file), Path.Combine(AppContext.BaseDirectory, file)];
        foreach (var candidate in candidates)
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        if (commandLine.ConfigFileExplicit)
            throw new FileNotFoundException($"--config: the configuration file '{file}' does not exist.", file);
        return null;
    }
}

/// <summary>What start-up found: the YAML file read (null: none) and whether --host/--port were given.</summary>
public sealed record ConfigurationSourceInfo(string? ConfigFile, bool EndpointExplicit);

using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace QwenAspire.InferenceApi.Hosting;

/// <summary>
/// Turns the failures a user can cause at start (a configuration mistake, a broken YAML file, a port in use)
/// into one clear message naming the problem instead of a stack trace and an abort (exit 134): exit code
/// <see cref="ConfigurationErrorExitCode"/> for configuration, <see cref="StartFailedExitCode"/> for the rest.
/// Anything unexpected is printed with its trace (that is a bug to report) and also exits 1.
/// </summary>
public static partial class StartupGuard
{
    public const int ConfigurationErrorExitCode = 2;
    public const int StartFailedExitCode = 1;

    /// <summary>The host's own "Hosting failed to start" log (with the trace); the guard reports start failures instead.</summary>
    public const string HostLogCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    public static async Task<int> RunAsync(Func<Task> run)
    {
        try
        {
            await run();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (DescribeStartFailure(ex) is { } message)
        {
            await Console.Error.WriteLineAsync("QwenAspire.InferenceApi: cannot start.");
            await Console.Error.WriteLineAsync(message);
            return StartFailedExitCode;
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            await Console.Error.WriteLineAsync("QwenAspire.InferenceApi: invalid configuration, not starting.");
            await Console.Error.WriteLineAsync(message);
            return ConfigurationErrorExitCode;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"QwenAspire.InferenceApi: failed to start (unexpected error, please report it): {ex}");
            return StartFailedExitCode;
        }
    }

    /// <summary>A configuration mistake, as one or more lines naming the key or file; null when it is not one.</summary>
    public static string? Describe(Exception ex) => ex switch
    {
        OptionsValidationException v => string.Join(Environment.NewLine, v.Failures.Select(f => "  " + f)),
        // The configuration file could not be parsed or read: its path, and for YAML the line and column.
        InvalidDataException { InnerException: { } inner } file when file.Message.Contains("configuration", StringComparison.OrdinalIgnoreCase) =>
            "  " + ConfigFileProblem(file.Message, inner),
        UnauthorizedAccessException u => "  cannot read the configuration: " + u.Message,
        ArgumentException a => "  " + a.Message,
        FileNotFoundException f => "  " + f.Message,
        // The configuration binder: "Failed to convert configuration value 'x' at 'server:port' to type 'System.Int32'."
        InvalidOperationException i when i.Message.Contains("configuration value", StringComparison.Ordinal) => "  " + i.Message,
        AggregateException { InnerExceptions.Count: 1 } agg => Describe(agg.InnerExceptions[0]),
        _ => null,
    };

    /// <summary>A failure to start that is not the configuration's text: the port is taken or not ours to bind.</summary>
    public static string? DescribeStartFailure(Exception ex) => ex switch
    {
        IOException { InnerException: AddressInUseException } io =>
            $"  server.port: {FirstSentence(io.Message)} Another server (or another copy of this one) is listening there; stop it or choose another --port.",
        AddressInUseException a => $"  server.port: {a.Message}; stop the other server or choose another --port.",
        IOException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AccessDenied } } denied =>
            $"  server.port: {FirstSentence(denied.Message)} Permission denied: ports below 1024 need privileges; choose another --port.",
        AggregateException { InnerExceptions.Count: 1 } agg => DescribeStartFailure(agg.InnerExceptions[0]),
        _ => null,
    };

    private static string ConfigFileProblem(string outer, Exception inner)
    {
        string file = FileInMessage().Match(outer) is { Success: true } m ? m.Groups[1].Value : "the configuration file";
        var innermost = inner;
        while (innermost.InnerException is not null) innermost = innermost.InnerException;
        // YamlDotNet puts the position in ToString, not in Message.
        if (YamlPosition().Match(innermost.ToString()) is { Success: true } at)
            return $"{file}: line {at.Groups[1].Value}, column {at.Groups[2].Value}: {at.Groups[3].Value.Trim()}";
        return $"{file}: cannot read it: {FirstSentence(innermost.Message)}";
    }

    private static string FirstSentence(string message) => message.Split(Environment.NewLine)[0].Trim();

    [GeneratedRegex(@"file '([^']+)'")]
    private static partial Regex FileInMessage();

    // YamlDotNet: "(Line: 4, Col: 1, Idx: 39) - (Line: 4, Col: 1, Idx: 39): While parsing a flow sequence, ..."
    [GeneratedRegex(@"\(Line: (\d+), Col: (\d+)[^)]*\)(?: - \([^)]*\))?: ([^\r\n]*)")]
    private static partial Regex YamlPosition();
}

using Microsoft.Extensions.Options;

namespace QwenAspire.InferenceApi.Hosting;

/// <summary>
/// Turns configuration mistakes into one clear line naming the key (and exit code 2) instead of a stack trace.
/// </summary>
public static class StartupGuard
{
    public const int ConfigurationErrorExitCode = 2;

    public static async Task<int> RunAsync(Func<Task> run)
    {
        try
        {
            await run();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            await Console.Error.WriteLineAsync("QwenAspire.InferenceApi: invalid configuration, not starting.");
            await Console.Error.WriteLineAsync(message);
            return ConfigurationErrorExitCode;
        }
    }

    public static string? Describe(Exception ex) => ex switch
    {
        OptionsValidationException v => string.Join(Environment.NewLine, v.Failures.Select(f => "  " + f)),
        ArgumentException a => "  " + a.Message,
        FileNotFoundException f => "  " + f.Message,
        // The configuration binder: "Failed to convert configuration value 'x' at 'server:port' to type 'System.Int32'."
        InvalidOperationException i when i.Message.Contains("configuration value", StringComparison.Ordinal) => "  " + i.Message,
        AggregateException { InnerExceptions.Count: 1 } agg => Describe(agg.InnerExceptions[0]),
        _ => null,
    };
}

using System.Diagnostics;
using System.Text.Json;

namespace QwenAspire.AppHost.Tests;

public sealed class ManifestTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>The AppHost as built beside its project (its own deps.json), for the configuration under test.</summary>
    private static string AppHostBinary()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "QwenAspire.sln")))
            dir = dir.Parent;
        Assert.NotNull(dir);
        var path = Path.Combine(dir.FullName, "src", "QwenAspire.AppHost", "bin", Configuration, "net10.0", "QwenAspire.AppHost.dll");
        Assert.True(File.Exists(path), $"AppHost not built at {path}.");
        return path;
    }

    [Fact]
    public async Task ManifestHoldsTheApiWithItsParametersAndHealthProbes()
    {
        var output = Path.Combine(Path.GetTempPath(), $"qwen-manifest-{Guid.NewGuid():N}", "aspire-manifest.json");
        var appHost = AppHostBinary();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { appHost, "--publisher", "manifest", "--output-path", output })
            start.ArgumentList.Add(arg);
        start.Environment["Parameters__lora-adapters"] = "rs=/models/lora-rs";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"AppHost exited {process.ExitCode}: {await stdout}{await stderr}");

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var resources = manifest.RootElement.GetProperty("resources");
        foreach (var name in new[] { "model-path", "served-model-name", "api-key", "lora-rs" })
            Assert.Equal("parameter.v0", resources.GetProperty(name).GetProperty("type").GetString());
        Assert.True(resources.GetProperty("api-key").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());

        var api = resources.GetProperty("inferenceapi");
        Assert.Equal("project.v0", api.GetProperty("type").GetString());
        Assert.EndsWith("QwenAspire.InferenceApi.csproj", api.GetProperty("path").GetString());
        var env = api.GetProperty("env");
        Assert.Equal("{model-path.value}", env.GetProperty("MODEL__PATH").GetString());
        Assert.Equal("{served-model-name.value}", env.GetProperty("MODEL__SERVED_MODEL_NAME").GetString());
        Assert.Equal("{lora-rs.value}", env.GetProperty("MODEL__ADAPTERS__rs").GetString());
        Assert.Equal("{api-key.value}", env.GetProperty("SERVER__API_KEYS__0").GetString());
        Assert.False(env.TryGetProperty("OPENAI_API_KEY", out _));
        Assert.True(api.GetProperty("bindings").GetProperty("http").GetProperty("external").GetBoolean());

        var probes = api.GetProperty("probes").EnumerateArray().ToDictionary(p => p.GetProperty("type").GetString()!, p => p.GetProperty("path").GetString());
        Assert.Equal("/health", probes["readiness"]);
        Assert.Equal("/alive", probes["liveness"]);
    }
}

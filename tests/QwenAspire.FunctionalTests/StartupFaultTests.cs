using System.Net;
using System.Net.Sockets;
using QwenAspire.InferenceApi.Hosting;
using Xunit.Abstractions;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// What a user sees when start-up fails through no fault of the code: the built server as a child process,
/// one clear message naming the problem, exit code 1 (2 for configuration), never an abort (134) or a stack trace.
/// </summary>
public sealed class StartupFaultTests(ITestOutputHelper output)
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qwenaspire-startup-").FullName;

    private async Task<string> FailsToStartAsync(int exitCode, params string[] args)
    {
        using var server = ServerProcess.StartRaw(output, ["--api-key", TestApp.Key, .. args], _dir);
        int code = await server.WaitForExitAsync(TimeSpan.FromMinutes(2));
        string text = server.Output;
        Assert.Equal(exitCode, code);
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Unhandled exception", text);
        return text;
    }

    [Fact]
    public async Task PortInUseNamesThePortAndExits1()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        string text = await FailsToStartAsync(StartupGuard.StartFailedExitCode,
            "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--Model:demo_directory=" + Path.Combine(_dir, "demo"));
        Assert.Contains("server.port", text);
        Assert.Contains($"{port}", text);
        Assert.Contains("already in use", text);
    }

    [Fact]
    public async Task InvalidYamlNamesFileLineAndColumn()
    {
        string yaml = Path.Combine(_dir, "broken.yaml");
        await File.WriteAllTextAsync(yaml, "server:\n  port: 8000\n  host: [unclosed\n");
        string text = await FailsToStartAsync(StartupGuard.ConfigurationErrorExitCode, "--config", yaml);
        Assert.Contains("broken.yaml: line 4, column 1:", text);
    }

    [Fact]
    public async Task UnreadableConfigIsNamed()
    {
        if (OperatingSystem.IsWindows()) return; // no Unix file modes there
        string yaml = Path.Combine(_dir, "secret.yaml");
        await File.WriteAllTextAsync(yaml, "server:\n  port: 8000\n");
        File.SetUnixFileMode(yaml, UnixFileMode.None);
        try
        {
            _ = await File.ReadAllTextAsync(yaml);
            return; // running as root: every file is readable, nothing to test here
        }
        catch (UnauthorizedAccessException)
        {
        }
        string text = await FailsToStartAsync(StartupGuard.ConfigurationErrorExitCode, "--config", yaml);
        Assert.Contains("secret.yaml", text);
    }

    [Fact]
    public async Task AFolderGivenAsTheConfigIsNamed()
    {
        // The unreadable case that also holds when running as root.
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "config.yaml")).FullName;
        string text = await FailsToStartAsync(StartupGuard.ConfigurationErrorExitCode, "--config", folder);
        Assert.Contains("config.yaml", text);
    }

    [Theory]
    [InlineData("70000")]
    [InlineData("-1")]
    public async Task AnInvalidPortIsNamed(string port)
    {
        string text = await FailsToStartAsync(StartupGuard.ConfigurationErrorExitCode, "--host", "127.0.0.1", "--port", port,
            "--Model:demo_directory=" + Path.Combine(_dir, "demo"));
        Assert.Contains("port", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(port, text);
    }

    [Fact]
    public async Task AWrongShapedAdapterAtStartNamesItAndNothingIsServed()
    {
        // The tiny model with an adapter whose rank disagrees with its weights: never start on the base model alone.
        string model = Path.Combine(_dir, "model");
        QwenAspire.Engine.Model.Generator.ModelGenerator.WriteDemoModel(model);
        string adapter = Path.Combine(_dir, "wrong-shape");
        QwenAspire.Engine.Model.Generator.ModelGenerator.GenerateAdapter("lora-all", "tiny", adapter);
        string config = Path.Combine(adapter, "adapter_config.json");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace("\"r\": 4", "\"r\": 8"));
        string text = await FailsToStartAsync(StartupGuard.StartFailedExitCode, "--model", model, "--lora", "mine=" + adapter,
            "--host", "127.0.0.1", "--port", "0");
        // HTTP is up while the model loads (model routes answer 503 meanwhile); the failed adapter ends the process.
        Assert.Contains("mine", text);
        Assert.Contains("shape", text);
    }

    [Fact]
    public async Task MissingModelFolderNamesTheKey()
    {
        string text = await FailsToStartAsync(StartupGuard.ConfigurationErrorExitCode, "--model", Path.Combine(_dir, "no-such-model"));
        Assert.Contains("model.path", text);
        Assert.Contains("no-such-model", text);
    }

    [Fact]
    public async Task TruncatedSafetensorsNamesTheFileAndExits1()
    {
        string model = Path.Combine(_dir, "model");
        QwenAspire.Engine.Model.Generator.ModelGenerator.WriteDemoModel(model);
        string weights = Path.Combine(model, "model.safetensors");
        await using (var file = new FileStream(weights, FileMode.Open)) file.SetLength(file.Length / 2);
        string text = await FailsToStartAsync(StartupGuard.StartFailedExitCode, "--model", model, "--host", "127.0.0.1", "--port", "0");
        Assert.Contains("model.safetensors", text);
        Assert.Contains("truncated", text);
    }

    [Fact]
    public async Task KeysAreNeverLogged()
    {
        const string cli = "sk-secret-cli-7f3a", env = "sk-secret-env-91bd", dify = "sk-secret-dify-c4e2", wrong = "sk-secret-wrong-55aa";
        using var server = ServerProcess.StartRaw(output, ["--host", "127.0.0.1", "--port", "0", "--api-key", cli,
            "--Model:demo_directory=" + ModelServer.DemoDirectory, "--Logging:LogLevel:Default=Debug",
            // the server's quiet defaults raise these categories; a key must not leak from them either
            "--Logging:LogLevel:Microsoft.AspNetCore=Debug", "--Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=Debug",
            "--Logging:LogLevel:Microsoft.Extensions.Http=Debug"], _dir,
            new Dictionary<string, string> { ["OPENAI_API_KEY"] = env, ["DIFY__API_KEY"] = dify });
        Uri address = await server.WaitListeningAsync(TimeSpan.FromMinutes(2));
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while ((await http.GetAsync("/health")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "server did not become ready");
            await Task.Delay(200);
        }
        foreach (var key in new[] { cli, env, dify, wrong })
        {
            using var models = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { { "Authorization", "Bearer " + key } } };
            Assert.Equal(key == wrong ? HttpStatusCode.Unauthorized : HttpStatusCode.OK, (await http.SendAsync(models)).StatusCode);
            using var metrics = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { { "x-api-key", key } } };
            await http.SendAsync(metrics);
        }
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        string text = server.Output;
        Assert.Contains("dbug:", text); // the log really was at debug level
        foreach (var key in new[] { cli, env, dify, wrong })
            Assert.DoesNotContain(key, text);
    }
}

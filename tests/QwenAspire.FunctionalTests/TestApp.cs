using System.Net.Http.Headers;

namespace QwenAspire.FunctionalTests;

/// <summary>The real service (Program.CreateApp) on real Kestrel, bound to a free loopback port.</summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string Key = "sk-functional-tests";

    private TestApp(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
    }

    public WebApplication App { get; }
    public Uri BaseAddress { get; }

    public static Task<TestApp> StartAsync(params string[] args) => StartAsync(configureServices: null, args);

    /// <param name="configureServices">Swaps or adds services after the defaults (e.g. a <c>ModelLoadGate</c> that holds the load).</param>
    public static async Task<TestApp> StartAsync(Action<IServiceCollection>? configureServices, params string[] args)
    {
        var app = Program.CreateApp(["--host", "127.0.0.1", "--port", "0", "--api-key", Key, .. args], configureServices);
        await app.StartAsync();
        return new TestApp(app, new Uri(app.Urls.First()));
    }

    /// <summary>A client that sends the test key (unless <paramref name="key"/> says otherwise).</summary>
    public HttpClient Client(string? key = Key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace QwenAspire.Sdk.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddQwenChatClientResolvesAWorkingChatClientWithMiddleware()
    {
        var server = new RecordedServer().Json("chat-tool-call.json").Json("chat-after-tool.json");
        var services = new ServiceCollection();
        var cities = new List<string>();
        services.AddQwenChatClient(o =>
        {
            o.Endpoint = new Uri("http://qwen.test:8000");
            o.ApiKey = "sk-di";
            o.Model = "qwen3-1.7b";
        }).UseFunctionInvocation();
        services.AddHttpClient(QwenServiceCollectionExtensions.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => server);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IChatClient>();
        var response = await client.GetResponseAsync("Weather?", new ChatOptions
        {
            Tools = [AIFunctionFactory.Create((string city, string unit) => { cities.Add(city); return "18"; }, "get_weather")],
        });

        Assert.Equal("It is 18 °C and sunny in Paris.", response.Text);
        Assert.Equal(["Paris"], cities);
        Assert.All(server.Requests, r => Assert.Equal("Bearer sk-di", r.Authorization));
        Assert.NotNull(client.GetService<QwenChatClient>());
    }

    [Fact]
    public void AspireClientReadsEndpointKeyAndModelFromTheConnectionString()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:inferenceapi"] = "Endpoint=http://10.1.2.3:8000;Key=sk-conn;Model=qwen3-1.7b",
        });
        builder.AddQwenClient("inferenceapi");
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<QwenClientOptions>>().Value;

        Assert.Equal(new Uri("http://10.1.2.3:8000"), options.Endpoint);
        Assert.Equal("sk-conn", options.ApiKey);
        Assert.Equal("qwen3-1.7b", options.Model);
        // The registered client is the one these options configure (through any pipeline around it).
        var metadata = host.Services.GetRequiredService<IChatClient>().GetService<ChatClientMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal("qwen3-1.7b", metadata.DefaultModelId);
        Assert.Equal("10.1.2.3", metadata.ProviderUri?.Host);
        Assert.Equal(8000, metadata.ProviderUri?.Port);
    }

    [Fact]
    public void AspireClientFallsBackToServiceDiscoveryAndReadsItsSection()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aspire:QwenAspire:inferenceapi:ApiKey"] = "sk-section",
            ["Aspire:QwenAspire:inferenceapi:Timeout"] = "00:02:00",
        });
        builder.AddQwenClient("inferenceapi", o => o.Model = "from-code");
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<QwenClientOptions>>().Value;

        Assert.Equal(new Uri("https+http://inferenceapi"), options.Endpoint);
        Assert.Equal("sk-section", options.ApiKey);
        Assert.Equal("from-code", options.Model);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Timeout);
    }

    [Fact]
    public void MalformedConnectionStringNamesTheConnectionAndTheBadPart()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:qwen"] = "Endpoint=http://h;Colour=blue" });
        builder.AddQwenClient("qwen");
        using var host = builder.Build();

        var ex = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<IOptions<QwenClientOptions>>().Value);

        Assert.Contains("ConnectionStrings:qwen", ex.Message);
        Assert.Contains("Colour", ex.Message);
    }
}

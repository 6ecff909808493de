using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace QwenAspire.Sdk.Tests;

public sealed class SemanticKernelTests
{
    public sealed class WeatherPlugin
    {
        public List<string> Cities { get; } = [];

        [KernelFunction("get_weather"), Description("Current weather for a city.")]
        public string GetWeather(string city, string unit = "celsius")
        {
            Cities.Add(city);
            return $"18 {unit} and sunny in {city}";
        }
    }

    private static Kernel CreateKernel(RecordedServer server, WeatherPlugin? plugin = null)
    {
        var builder = Kernel.CreateBuilder();
        builder.AddQwenChatCompletion(o =>
        {
            o.Endpoint = new Uri("http://qwen.test:8000");
            o.ApiKey = "sk-test";
            o.Model = "qwen3-1.7b";
        });
        builder.Services.AddHttpClient(QwenServiceCollectionExtensions.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => server);
        if (plugin is not null)
            builder.Plugins.AddFromObject(plugin, "weather");
        return builder.Build();
    }

    [Fact]
    public async Task InvokePromptReturnsTheAnswerText()
    {
        var server = new RecordedServer().Json("chat-reasoning.json");
        var kernel = CreateKernel(server);

        var result = await kernel.InvokePromptAsync("What is the capital of France?");

        Assert.Equal("The capital of France is Paris.", result.GetValue<string>());
        Assert.Equal("What is the capital of France?", server.Requests[0].Json.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task AutoFunctionChoiceInvokesTheKernelFunction()
    {
        // SK advertises plugin functions as "{plugin}_{function}"; the model calls them by that name.
        var toolCall = RecordedServer.Read("chat-tool-call.json").Replace("\"get_weather\"", "\"weather_get_weather\"");
        var server = new RecordedServer().JsonText(toolCall).Json("chat-after-tool.json");
        var plugin = new WeatherPlugin();
        var kernel = CreateKernel(server, plugin);
        var chat = kernel.GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory();
        history.AddUserMessage("Weather in Paris?");

        var answer = await chat.GetChatMessageContentAsync(history,
            new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() }, kernel);

        Assert.Equal("It is 18 °C and sunny in Paris.", answer.Content);
        Assert.Equal(["Paris"], plugin.Cities);
        var tools = server.Requests[0].Json.GetProperty("tools");
        Assert.Equal("weather_get_weather", tools[0].GetProperty("function").GetProperty("name").GetString());
        var toolMessage = server.Requests[1].Json.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal("call_8f2d1a6c", toolMessage.GetProperty("tool_call_id").GetString());
    }

    [Fact]
    public async Task StreamingChatMessageContentsArriveChunkByChunk()
    {
        var server = new RecordedServer().Sse("stream-reasoning.sse");
        var kernel = CreateKernel(server);
        var chat = kernel.GetRequiredService<IChatCompletionService>();

        var chunks = new List<string>();
        await foreach (var chunk in chat.GetStreamingChatMessageContentsAsync("Capital of France?", kernel: kernel))
        {
            if (!string.IsNullOrEmpty(chunk.Content))
                chunks.Add(chunk.Content);
        }

        Assert.Equal(["Par", "is ✓"], chunks);
    }
}

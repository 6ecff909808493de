using System.ComponentModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using FunctionCallContent = Microsoft.Extensions.AI.FunctionCallContent;
using FunctionResultContent = Microsoft.Extensions.AI.FunctionResultContent;
using SkFunctionChoice = Microsoft.SemanticKernel.FunctionChoiceBehavior;

namespace QwenAspire.FunctionalTests.Sdk;

/// <summary>
/// Forced tool calls through the SDK's two faces against the real server (random-weight demo model): MEAI's
/// <see cref="FunctionInvokingChatClient"/> with <see cref="ChatToolMode.RequireAny"/> and Semantic Kernel's
/// auto invocation with <see cref="SkFunctionChoice.Required"/>. The model never calls a tool by itself, so
/// the function runs only because the grammar forced a call whose arguments bind to its parameters.
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class SdkToolCallLiveTests(ModelServer server)
{
    public enum Unit { Celsius, Fahrenheit }

    private readonly List<(int Days, Unit Unit)> _calls = [];

    private string Forecast(int days, Unit unit)
    {
        lock (_calls) _calls.Add((days, unit));
        return $"sunny for {days} days ({unit})";
    }

    [Fact]
    public async Task FunctionInvokingChatClientRunsTheForcedCallAndAnswers()
    {
        using var inner = SdkChatClientLiveTests.Client(server.App);
        using var client = inner.AsBuilder().UseFunctionInvocation().Build();
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.Create(Forecast, "get_forecast", "Weather forecast")],
            ToolMode = ChatToolMode.RequireAny,
            AllowMultipleToolCalls = false,
            MaxOutputTokens = 120,
            Temperature = 1,
            Seed = 4,
            AdditionalProperties = new() { ["enable_thinking"] = false },
        };

        var response = await client.GetResponseAsync("Forecast for Paris?", options);

        var (days, unit) = Assert.Single(_calls);
        Assert.True(Enum.IsDefined(unit));
        var call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Single();
        Assert.Equal("get_forecast", call.Name);
        Assert.StartsWith("call_", call.CallId);
        Assert.Equal(days, ((JsonElement)call.Arguments!["days"]!).GetInt32());
        var result = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single();
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);   // the follow-up turn (auto, unforced) answered
    }

    [Fact]
    public async Task StreamingFunctionInvocationRunsTheForcedCall()
    {
        using var inner = SdkChatClientLiveTests.Client(server.App);
        using var client = inner.AsBuilder().UseFunctionInvocation().Build();
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.Create(Forecast, "get_forecast", "Weather forecast")],
            ToolMode = ChatToolMode.RequireSpecific("get_forecast"),
            MaxOutputTokens = 120,
            Temperature = 1,
            Seed = 11,
            AdditionalProperties = new() { ["enable_thinking"] = false },
        };

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Forecast?", options)) updates.Add(update);

        Assert.NotEmpty(_calls);   // parallel calls allowed: one or more
        Assert.Equal(_calls.Count, updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().Count());
        Assert.Equal(_calls.Count, updates.SelectMany(u => u.Contents).OfType<FunctionResultContent>().Count());
    }

    public sealed class ForecastPlugin
    {
        public List<int> Days { get; } = [];

        [KernelFunction("forecast"), Description("Weather forecast for the next days")]
        public string Forecast([Description("How many days")] int days, bool metric)
        {
            lock (Days) Days.Add(days);
            return $"sunny for {days} days, metric={metric}";
        }
    }

    [Fact]
    public async Task SemanticKernelRequiredFunctionChoiceInvokesTheKernelFunction()
    {
        var builder = Kernel.CreateBuilder();
        builder.AddQwenChatCompletion(o =>
        {
            o.Endpoint = server.App.BaseAddress;
            o.ApiKey = TestApp.Key;
            o.Model = ModelServer.Model;
            o.Timeout = TimeSpan.FromMinutes(2);
        });
        var plugin = new ForecastPlugin();
        builder.Plugins.AddFromObject(plugin, "weather");
        var kernel = builder.Build();
        var chat = kernel.GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory();
        history.AddUserMessage("Forecast for Paris?");
        var settings = new PromptExecutionSettings
        {
            FunctionChoiceBehavior = SkFunctionChoice.Required(),
            ExtensionData = new Dictionary<string, object> { ["max_tokens"] = 120, ["temperature"] = 1.0, ["seed"] = 2, ["enable_thinking"] = false },
        };

        var answer = await chat.GetChatMessageContentAsync(history, settings, kernel);

        Assert.NotEmpty(plugin.Days);
        Assert.Equal(AuthorRole.Assistant, answer.Role);
        Assert.Contains(history, m => m.Role == AuthorRole.Tool);
    }
}

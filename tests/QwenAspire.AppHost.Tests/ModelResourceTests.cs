using System.ClientModel;
using System.Collections.Concurrent;
using System.Data.Common;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenAI;
using OpenAI.Chat;
using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.AppHost.Tests;

/// <summary>
/// The InferenceApi as an Aspire model resource, end to end with the real AppHost serving the tiny fixture checkpoint
/// with one adapter configured and runtime adapters on: state while the model loads, adapters as child resources,
/// the Load/Unload commands, and the <c>model</c> connection string read by our Sdk and by the OpenAI SDK the way
/// Aspire's OpenAI client integration reads it.
/// </summary>
public sealed class ModelResourceTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private const string Key = "sk-apphost-model-resource";
    private const string ServedName = "tiny";

    /// <summary>The tiny checkpoint and its two adapters, written from the generator's recipe (a few MB).</summary>
    private static string WriteFixture()
    {
        string root = Path.Combine(Path.GetTempPath(), "qwenaspire-apphost-models-" + Guid.NewGuid().ToString("N")[..8]);
        ModelGenerator.WriteDemoModel(Path.Combine(root, "model"));
        ModelGenerator.GenerateAdapter("lora-rs", "tiny", Path.Combine(root, "lora-rs"));
        ModelGenerator.GenerateAdapter("lora-all", "tiny", Path.Combine(root, "lora-all"));
        return root;
    }

    [Fact]
    public async Task ApiShowsLoadingThenServesAdaptersAsChildrenWithCommandsAndAConnectionString()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        var ct = cts.Token;
        string fixture = WriteFixture();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.QwenAspire_AppHost>(
        [
            $"--Parameters:api-key={Key}", $"--Parameters:model-path={Path.Combine(fixture, "model")}",
            $"--Parameters:served-model-name={ServedName}", $"--Parameters:lora-adapters=rs={Path.Combine(fixture, "lora-rs")}",
            $"--Parameters:lora-roots={fixture}",
        ], ct);
        await using var app = await builder.BuildAsync(ct);
        var notifications = app.ResourceNotifications;

        // Every state the API resource goes through, from before it starts.
        var states = new ConcurrentQueue<string>();
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watch = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in notifications.WatchAsync(watchStop.Token))
                    if (e.Resource.Name == "inferenceapi" && e.Snapshot.State?.Text is { } s && (states.IsEmpty || states.Last() != s))
                        states.Enqueue(s);
            }
            catch (OperationCanceledException)
            {
            }
        }, ct);

        await app.StartAsync(ct);
        await notifications.WaitForResourceHealthyAsync("inferenceapi", ct);
        var running = await notifications.WaitForResourceAsync("inferenceapi", e => e.Snapshot.State?.Text == KnownResourceStates.Running
            && e.Snapshot.Properties.Any(p => p.Name == "model.state" && Equals(p.Value, "ready")), ct);
        var seen = states.ToList();
        int loading = seen.FindIndex(s => s.StartsWith("Loading model", StringComparison.Ordinal));
        Assert.True(loading >= 0 && seen.LastIndexOf(KnownResourceStates.Running) > loading, "states: " + string.Join(" → ", seen));

        // The configured adapter is a child of the API.
        var rs = await notifications.WaitForResourceAsync("inferenceapi-lora-rs", e => e.Snapshot.State?.Text == "Serving", ct);
        Assert.Equal(running.ResourceId, rs.Snapshot.Properties.Single(p => p.Name == "resource.parentName").Value);
        Assert.Equal("rs", rs.Snapshot.Properties.Single(p => p.Name == "lora.name").Value);
        Assert.Equal(ServedName, rs.Snapshot.Properties.Single(p => p.Name == "lora.base_model").Value);
        Assert.Contains(rs.Snapshot.Commands, c => c.Name == "unload-lora-adapter" && c.State == ResourceCommandState.Enabled);
        Assert.Contains(running.Snapshot.Commands, c => c.Name == "load-lora-adapter" && c.State == ResourceCommandState.Enabled);

        // Load command: a folder under lora-roots becomes a served model and a child; one outside is refused with the API's reason.
        var commands = app.Services.GetRequiredService<ResourceCommandService>();
        var api = builder.Resources.Single(r => r.Name == "inferenceapi");
        var outside = await commands.ExecuteCommandAsync(api, "load-lora-adapter", Arguments(("name", "elsewhere"), ("path", Path.GetTempPath())), ct);
        Assert.False(outside.Success);
        Assert.Contains("is outside the", outside.Message); // the API's own reason (400 invalid_request_error)
        var loaded = await commands.ExecuteCommandAsync(api, "load-lora-adapter", Arguments(("name", "all.v2"), ("path", Path.Combine(fixture, "lora-all"))), ct);
        Assert.True(loaded.Success, loaded.Message);
        var all = await notifications.WaitForResourceAsync("inferenceapi-lora-all-v2", e => e.Snapshot.State?.Text == "Serving", ct);

        // The connection string, read by our Sdk's Aspire integration; the runtime adapter answers through it.
        string connectionString = (await app.GetConnectionStringAsync("model", ct))!;
        var endpoint = app.GetEndpoint("inferenceapi", "http");
        Assert.Equal($"Endpoint={endpoint.ToString().TrimEnd('/')}/v1;Key={Key};Model={ServedName}", connectionString);
        var host = Host.CreateApplicationBuilder();
        host.Configuration["ConnectionStrings:model"] = connectionString;
        host.AddQwenClient("model");
        using (var services = host.Build())
        {
            var chat = services.Services.GetRequiredService<IChatClient>();
            var viaSdk = await chat.GetResponseAsync("Say hello.", new ChatOptions { MaxOutputTokens = 4, Temperature = 0 }, ct);
            Assert.Equal(ServedName, viaSdk.ModelId);
            var viaAdapter = await chat.GetResponseAsync("Say hello.", new ChatOptions { MaxOutputTokens = 4, Temperature = 0, ModelId = "all.v2" }, ct);
            Assert.Equal("all.v2", viaAdapter.ModelId);
        }

        // Aspire.OpenAI (not served by this feed) parses it with DbConnectionStringBuilder (Endpoint, Key, Model) and
        // hands Endpoint to the OpenAI SDK as its base address: the same here.
        var parsed = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var openAi = new OpenAIClient(new ApiKeyCredential((string)parsed["Key"]), new OpenAIClientOptions { Endpoint = new Uri((string)parsed["Endpoint"]) });
        ChatCompletion completion = await openAi.GetChatClient((string)parsed["Model"]).CompleteChatAsync(
            [new UserChatMessage("Say hello.")], new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 }, ct);
        Assert.Equal(ServedName, completion.Model);
        Assert.True(completion.Usage.OutputTokenCount > 0);

        // Unload command on the child: no longer served, the child says so and leaves the list.
        var unloaded = await commands.ExecuteCommandAsync(all.ResourceId, "unload-lora-adapter", ct);
        Assert.True(unloaded.Success, unloaded.Message);
        var gone = await notifications.WaitForResourceAsync("inferenceapi-lora-all-v2", e => e.Snapshot.State?.Text == "Unloaded", ct);
        Assert.True(gone.Snapshot.IsHidden);
        using var http = new HttpClient { BaseAddress = endpoint };
        http.DefaultRequestHeaders.Authorization = new("Bearer", Key);
        var models = await http.GetStringAsync("/v1/models", ct);
        Assert.DoesNotContain("all.v2", models);
        Assert.Contains("\"rs\"", models);

        await watchStop.CancelAsync();
        await watch;
        await app.StopAsync(ct);
        try
        {
            Directory.Delete(fixture, recursive: true);
        }
        catch (IOException)
        {
            // The API may still map the weights for a moment; a temp folder left behind is only litter.
        }
    }

    private static InteractionInputCollection Arguments(params (string Name, string Value)[] values) =>
        new([.. values.Select(v => new InteractionInput { Name = v.Name, InputType = InputType.Text, Value = v.Value })]);
}

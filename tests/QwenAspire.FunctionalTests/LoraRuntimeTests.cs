using System.ClientModel;
using System.Net;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace QwenAspire.FunctionalTests;

/// <summary>
/// /v1/load_lora_adapter and /v1/unload_lora_adapter on the real server and engine: served at once, unloaded
/// without disturbing what runs, confined to engine.lora_roots, bad adapters refused with the reason.
/// </summary>
public sealed class LoraRuntimeTests(LoraServers servers) : IClassFixture<LoraServers>
{
    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];

    [Fact]
    public async Task ALoadedAdapterIsListedAndChatsThroughTheOpenAiSdk()
    {
        using var client = servers.App.Client();
        string name = Unique("all");
        Assert.DoesNotContain(name, await LoraServers.ModelIdsAsync(client));
        await LoraServers.LoadOkAsync(client, name, "lora-all");

        var options = new OpenAIClientOptions { Endpoint = new Uri(servers.App.BaseAddress, "v1") };
        OpenAIModelCollection models = await new OpenAIModelClient(new ApiKeyCredential(TestApp.Key), options).GetModelsAsync();
        Assert.Contains(models, m => m.Id == name);
        Assert.Contains(models, m => m.Id == LoraServers.BaseModel); // unmerged: the base is still served

        ChatCompletion chat = await new ChatClient(name, new ApiKeyCredential(TestApp.Key), options).CompleteChatAsync(
            [new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 });
        Assert.Equal(name, chat.Model);
        Assert.InRange(chat.Usage.OutputTokenCount, 1, 8);

        // The adapter is applied: its greedy tokens are not the base model's.
        Assert.NotEqual(await LoraServers.GreedyAsync(client, LoraServers.BaseModel), await LoraServers.GreedyAsync(client, name));
        await LoraServers.UnloadOkAsync(client, name);
        Assert.DoesNotContain(name, await LoraServers.ModelIdsAsync(client));
    }

    [Fact]
    public async Task AnAdapterLoadedAtRunTimeAnswersAsWhenConfiguredAtStartAndAReloadedNameNeverReusesTheOldKv()
    {
        // Reference: a server started with lora-rs configured (unmerged, so the base is served beside it).
        int[] expectedRs;
        await using (var reference = await LoraServers.StartAsync("--lora", "rs=" + servers.LoraRs))
        {
            using var refClient = reference.Client();
            Assert.Equal([LoraServers.BaseModel, "rs"], await LoraServers.ModelIdsAsync(refClient));
            expectedRs = await LoraServers.GreedyAsync(refClient, "rs");
        }

        using var client = servers.App.Client();
        string name = Unique("swap");
        await LoraServers.LoadOkAsync(client, name, servers.LoraAll);
        int[] all = await LoraServers.GreedyAsync(client, name);
        Assert.Equal(all, await LoraServers.GreedyAsync(client, name)); // the repeat runs on cached prefix blocks
        Assert.NotEqual(expectedRs, all);

        await LoraServers.UnloadOkAsync(client, name);
        await LoraServers.LoadOkAsync(client, name, "lora-rs");
        // Same name, same prompt: blocks cached for the old adapter must not be hit.
        Assert.Equal(expectedRs, await LoraServers.GreedyAsync(client, name));
        await LoraServers.UnloadOkAsync(client, name);
    }

    [Fact]
    public async Task MergeSingleAdapterServesOnlyTheAdapterNotTheBase()
    {
        await using var merged = await LoraServers.StartAsync("--lora", "rs=" + servers.LoraRs, "--Model:merge_single_adapter=true");
        using var client = merged.Client();
        Assert.Equal(["rs"], await LoraServers.ModelIdsAsync(client));
        Assert.Equal(12, (await LoraServers.GreedyAsync(client, "rs")).Length);
        var baseRefused = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/completions",
            ModelServer.Json(new { model = LoraServers.BaseModel, prompt = "hi", max_tokens = 1 })));
        Assert.Equal((HttpStatusCode.NotFound, "model_not_found"), (baseRefused.Status, baseRefused.Code));
        Assert.Contains("Served models: rs.", baseRefused.Message);
    }

    [Fact]
    public async Task UnloadingWhileAStreamRunsStopsServingTheNameAtOnceAndTheStreamFinishes()
    {
        const int tokens = 2000;
        using var client = servers.App.Client();
        using var streamClient = servers.App.Client();
        string name = Unique("rs");
        await LoraServers.LoadOkAsync(client, name, "lora-rs");
        using var stream = await LoraServers.StartStreamAsync(streamClient, name, tokens);

        var unload = LoraServers.UnloadAsync(client, name);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await LoraServers.ModelIdsAsync(client)).Contains(name))
        {
            Assert.True(DateTime.UtcNow < deadline, "the unloaded name is still listed after 30 s");
            await Task.Delay(20);
        }
        var refused = await client.PostAsync("/v1/completions", ModelServer.Json(new { model = name, prompt = "hi", max_tokens = 1 }));
        var error = await ErrorEnvelope.ReadAsync(refused);
        Assert.Equal((HttpStatusCode.NotFound, "model_not_found"), (error.Status, error.Code));
        Assert.Contains(LoraServers.BaseModel, error.Message);
        Assert.DoesNotContain($"{name},", error.Message);
        // The weights are freed only once the running stream is done, so the unload is still waiting.
        Assert.False(unload.IsCompleted, "the unload finished before the stream that uses the adapter did");

        await LoraServers.AssertFinishesNormallyAsync(stream, tokens);
        var unloaded = await unload;
        Assert.Equal(HttpStatusCode.OK, unloaded.StatusCode);
        Assert.Equal($"Success: LoRA adapter '{name}' removed successfully.", await unloaded.Content.ReadAsStringAsync());
        await LoraServers.LoadOkAsync(client, name, "lora-rs"); // the name is free again
        await LoraServers.UnloadOkAsync(client, name);
    }

    [Fact]
    public async Task PathsOutsideTheRootsAreRefusedAndNothingIsLoaded()
    {
        using var client = servers.App.Client();
        string escape = Path.Combine(servers.Root, Unique("escape"));
        Directory.CreateSymbolicLink(escape, Path.Combine(servers.Outside, "lora-all"));
        var cases = new (string Path, string Reason)[]
        {
            (Path.Combine(servers.Outside, "lora-all"), "outside"),
            ("lora-all/../../outside/lora-all", "'..'"),
            (servers.Root + "/../outside/lora-all", "'..'"),
            ("/etc", "outside"),
            (escape, "symbolic link"),
            (Path.GetFileName(escape), "symbolic link"),
            ("no-such-adapter", "no such folder"),
        };
        foreach (var (path, reason) in cases)
        {
            string name = Unique("path");
            var error = await ErrorEnvelope.ReadAsync(await LoraServers.LoadAsync(client, name, path));
            Assert.Equal((HttpStatusCode.BadRequest, "invalid_lora_path", "lora_path"), (error.Status, error.Code, error.Param));
            Assert.Contains(reason, error.Message);
            Assert.DoesNotContain(name, await LoraServers.ModelIdsAsync(client));
        }
    }

    [Fact]
    public async Task ABadAdapterIs400NamingTheProblemAndARunningStreamIsUnharmed()
    {
        const int tokens = 600;
        string truncated = servers.CopyUnderRoot(servers.LoraAll, "truncated");
        using (var weights = File.OpenWrite(Path.Combine(truncated, "adapter_model.safetensors"))) weights.SetLength(100);
        string wrongShape = servers.CopyUnderRoot(servers.LoraAll, "wrong-shape");
        string config = Path.Combine(wrongShape, "adapter_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"r\": 4", "\"r\": 8"));
        Assert.Contains("\"r\": 8", File.ReadAllText(config));
        string notPeft = Path.Combine(servers.Root, Unique("not-peft"));
        Directory.CreateDirectory(notPeft);
        File.WriteAllText(Path.Combine(notPeft, "README.md"), "not an adapter");

        using var client = servers.App.Client();
        using var streamClient = servers.App.Client();
        using var stream = await LoraServers.StartStreamAsync(streamClient, LoraServers.BaseModel, tokens);
        foreach (var (folder, reason) in new[] { (truncated, "adapter_model.safetensors"), (wrongShape, "shape"), (notPeft, "adapter_config.json") })
        {
            string name = Unique("bad");
            var error = await ErrorEnvelope.ReadAsync(await LoraServers.LoadAsync(client, name, folder));
            Assert.Equal((HttpStatusCode.BadRequest, "invalid_adapter", "lora_path"), (error.Status, error.Code, error.Param));
            Assert.Contains(reason, error.Message);
            Assert.DoesNotContain(name, await LoraServers.ModelIdsAsync(client));
            // A failed load leaves the name free.
            await LoraServers.LoadOkAsync(client, name, "lora-rs");
            await LoraServers.UnloadOkAsync(client, name);
        }
        await LoraServers.AssertFinishesNormallyAsync(stream, tokens);
    }

    [Fact]
    public async Task TakenNamesUnknownNamesAndMissingFieldsAreRefused()
    {
        using var client = servers.App.Client();
        string name = Unique("twice");
        await LoraServers.LoadOkAsync(client, name, "lora-all");
        var again = await ErrorEnvelope.ReadAsync(await LoraServers.LoadAsync(client, name, "lora-rs"));
        Assert.Equal((HttpStatusCode.BadRequest, "lora_name_taken"), (again.Status, again.Code));
        Assert.Contains(name, again.Message);
        var baseName = await ErrorEnvelope.ReadAsync(await LoraServers.LoadAsync(client, LoraServers.BaseModel, "lora-rs"));
        Assert.Equal((HttpStatusCode.BadRequest, "lora_name_taken"), (baseName.Status, baseName.Code));
        await LoraServers.UnloadOkAsync(client, name);

        var unknown = await ErrorEnvelope.ReadAsync(await LoraServers.UnloadAsync(client, name));
        Assert.Equal((HttpStatusCode.NotFound, "lora_adapter_not_found", "lora_name"), (unknown.Status, unknown.Code, unknown.Param));
        Assert.Contains(name, unknown.Message);
        var unloadBase = await ErrorEnvelope.ReadAsync(await LoraServers.UnloadAsync(client, LoraServers.BaseModel));
        Assert.Equal(HttpStatusCode.BadRequest, unloadBase.Status);
        Assert.Contains("base model", unloadBase.Message);

        foreach (var (body, param) in new (object, string)[]
                 {
                     (new { lora_path = "lora-all" }, "lora_name"), (new { lora_name = "x" }, "lora_path"), (new { lora_name = " x", lora_path = "lora-all" }, "lora_name"),
                 })
        {
            var error = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/load_lora_adapter", ModelServer.Json(body)));
            Assert.Equal((HttpStatusCode.BadRequest, param), (error.Status, error.Param));
        }
        var missing = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/unload_lora_adapter", ModelServer.Json(new { })));
        Assert.Equal((HttpStatusCode.BadRequest, "missing_required_parameter"), (missing.Status, missing.Code));
        var badJson = await ErrorEnvelope.ReadAsync(await client.PostAsync("/v1/load_lora_adapter", ModelServer.Json("{\"lora_name\":")));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_json"), (badJson.Status, badJson.Code));
    }

    [Theory]
    [InlineData(null, "missing_api_key")]
    [InlineData("sk-wrong", "invalid_api_key")]
    public async Task TheRoutesNeedAKey(string? key, string code)
    {
        using var client = servers.App.Client(key);
        string name = Unique("nokey");
        foreach (var response in new[] { await LoraServers.LoadAsync(client, name, "lora-all"), await LoraServers.UnloadAsync(client, "x") })
        {
            var error = await ErrorEnvelope.ReadAsync(response);
            Assert.Equal((HttpStatusCode.Unauthorized, code), (error.Status, error.Code));
        }
        using var withKey = servers.App.Client();
        Assert.DoesNotContain(name, await LoraServers.ModelIdsAsync(withKey));
    }
}

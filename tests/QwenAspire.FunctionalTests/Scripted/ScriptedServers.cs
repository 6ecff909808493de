using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.FunctionalTests.Scripted;

/// <summary>
/// Two servers on the scripted checkpoints (<see cref="ScriptedModel"/>): one answers
/// "&lt;think&gt;Let me think.&lt;/think&gt;\n\nHello!&lt;|im_end|&gt;", the other a get_weather tool call.
/// Unlike the random demo model they emit think tags, tool calls and eos, through the real engine.
/// </summary>
public sealed class ScriptedServers : IAsyncLifetime
{
    public const string ChatModel = "qwen3-scripted";
    public const string ToolModel = "qwen3-scripted-tool-call";
    public const string Reasoning = "Let me think.";
    public const string Answer = "Hello!";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "qwenaspire-functional-scripted-" + Guid.NewGuid().ToString("N")[..8]);

    public TestApp Chat { get; private set; } = null!;
    public TestApp Tool { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        string chatDir = Path.Combine(_root, "chat"), toolDir = Path.Combine(_root, "tool");
        ScriptedModel.Write(chatDir, "scripted");
        ScriptedModel.Write(toolDir, "scripted-tool-call");
        Chat = await TestApp.StartAsync("--model", chatDir, "--served-model-name", ChatModel);
        Tool = await TestApp.StartAsync("--model", toolDir, "--served-model-name", ToolModel);
        await Task.WhenAll(ModelServer.WaitReadyAsync(Chat), ModelServer.WaitReadyAsync(Tool));
    }

    public async Task DisposeAsync()
    {
        await Chat.DisposeAsync();
        await Tool.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Mapped weights may still be open on some platforms; the temp folder is only litter then.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ScriptedCollection : ICollectionFixture<ScriptedServers>
{
    public const string Name = "scripted model servers";
}

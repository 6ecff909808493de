using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Generator;
using QwenAspire.Engine.Sampling;
using QwenAspire.Text;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.UnitTests.Model;

/// <summary>
/// The scripted (bigram-weight) checkpoint through the real loader, runner, engine loop, sampler and
/// detokenizer: it must say its script and stop on &lt;|im_end|&gt;.
/// </summary>
public sealed class ScriptedModelTests(ScriptedModelTests.Models models) : IClassFixture<ScriptedModelTests.Models>
{
    private static readonly Qwen3Tokenizer s_tokenizer = Qwen3Tokenizer.LoadEmbedded();
    private const string ChatPrompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";

    private static async Task<List<GenerationOutput>> GenerateAsync(string modelDir, string prompt, SamplingParams sampling)
    {
        using var runner = TorchModelRunner.Load(modelDir, null, "f32");
        var eos = new HashSet<int>(runner.GenerationConfig.EosTokenIds) { s_tokenizer.TokenToId("<|im_end|>")!.Value };
        await using var engine = new InferenceEngine(runner, p => new Decoder(s_tokenizer.CreateDetokenizer(p.SkipSpecialTokens)), eos);
        var events = new List<GenerationOutput>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var e in engine.GenerateAsync(new GenerationRequest("r", null, s_tokenizer.Encode(prompt), sampling), timeout.Token))
            events.Add(e);
        return events;
    }

    [Fact]
    public async Task GreedyGenerationSaysTheChatScriptAndStopsOnImEnd()
    {
        var events = await GenerateAsync(models.Chat, ChatPrompt, new SamplingParams { Temperature = 0, MaxTokens = 50 });

        var expectedIds = ScriptedModel.ResolveTokens(s_tokenizer, ScriptedModel.ChatScript)[1..];
        Assert.Equal(expectedIds, events.Where(e => e.TokenId is not null).Select(e => e.TokenId!.Value));
        Assert.Equal("<think>Let me think.</think>\n\nHello!", string.Concat(events.Select(e => e.TextDelta)));
        Assert.Equal(FinishReason.Stop, events[^1].Finish);
        Assert.Equal(expectedIds.Length, events[^1].CompletionTokens);
    }

    [Fact]
    public async Task SamplingAtQwenDefaultsStillFollowsTheScript()
    {
        // enable_thinking=false prompts end in an empty think block; "\n\n" leads straight to the answer.
        var sampling = new SamplingParams { Temperature = 0.6f, TopK = 20, TopP = 0.95f, Seed = 7, MaxTokens = 50 };
        var events = await GenerateAsync(models.Chat, ChatPrompt + "<think>\n\n</think>\n\n", sampling);
        Assert.Equal("Hello!", string.Concat(events.Select(e => e.TextDelta)));
        Assert.Equal(FinishReason.Stop, events[^1].Finish);
    }

    [Fact]
    public async Task ToolCallScriptEmitsAValidQwen3ToolCall()
    {
        var events = await GenerateAsync(models.ToolCall, ChatPrompt, new SamplingParams { Temperature = 0, MaxTokens = 50 });
        Assert.Equal("<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\": \"Paris\"}}</tool_call>",
            string.Concat(events.Select(e => e.TextDelta)));
        Assert.Equal(FinishReason.Stop, events[^1].Finish);
    }

    [Fact]
    public void ScriptsWithRepeatedOrMultiTokenPiecesAreRefused()
    {
        var repeated = Assert.Throws<ArgumentException>(() => ScriptedModel.ResolveTokens(s_tokenizer, ["\n", "Hello", "\n"]));
        Assert.Contains("unique", repeated.Message);
        var multi = Assert.Throws<ArgumentException>(() => ScriptedModel.ResolveTokens(s_tokenizer, ["\n", "Hello world"]));
        Assert.Contains("2 tokens", multi.Message);
    }

    /// <summary>Both scripted presets, written once into a temp folder.</summary>
    public sealed class Models : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "qwenaspire-scripted-" + Guid.NewGuid().ToString("N")[..8]);

        public Models()
        {
            TorchSharp.torch.set_num_threads(1);
            ScriptedModel.Write(Chat, "scripted");
            ScriptedModel.Write(ToolCall, "scripted-tool-call");
        }

        public string Chat => Path.Combine(_root, "scripted");
        public string ToolCall => Path.Combine(_root, "scripted-tool-call");

        public void Dispose()
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // Mapped files may still be open on some platforms; the temp folder is only litter then.
            }
        }
    }

    private sealed class Decoder(IncrementalDetokenizer detokenizer) : ITextDecoder
    {
        public string Push(int tokenId) => detokenizer.Push(tokenId);
        public string Flush() => detokenizer.Flush();
    }
}

using System.Text.Json.Nodes;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;
using QwenAspire.Engine.Templating;
using QwenAspire.Engine.Tokenization;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>The checkpoint's tokenizer and chat template, as serving uses them.</summary>
public sealed class Qwen3PromptProcessor(Qwen3Tokenizer tokenizer, ChatTemplate template) : IPromptProcessor
{
    public Qwen3Tokenizer Tokenizer => tokenizer;
    public ChatTemplate Template => template;

    public int[] Encode(string text) => tokenizer.Encode(text);

    public string Decode(IReadOnlyList<int> tokenIds, bool skipSpecialTokens) => tokenizer.Decode(tokenIds, skipSpecialTokens);

    public string RenderChat(JsonArray messages, JsonArray? tools, bool addGenerationPrompt, IReadOnlyDictionary<string, JsonNode?> kwargs)
    {
        try
        {
            return template.Render(messages, tools, addGenerationPrompt, kwargs);
        }
        // raise_exception(...) in the template, or the template tripping over the shape of the messages:
        // both are the request's fault (400), as in vLLM.
        catch (TemplateRaiseException ex)
        {
            throw new ChatTemplateRejectedException(ex.Reason, ex);
        }
        catch (TemplateRuntimeException ex)
        {
            throw new ChatTemplateRejectedException(ex.Message, ex);
        }
    }

    /// <summary>The engine's per-request detokenizer factory (never splits a UTF-8 character).</summary>
    public Func<SamplingParams, ITextDecoder> DecoderFactory =>
        sampling => new DetokenizerTextDecoder(tokenizer.CreateDetokenizer(sampling.SkipSpecialTokens));

    private sealed class DetokenizerTextDecoder(IncrementalDetokenizer detokenizer) : ITextDecoder
    {
        public string Push(int tokenId) => detokenizer.Push(tokenId);
        public string Flush() => detokenizer.Flush();
    }
}

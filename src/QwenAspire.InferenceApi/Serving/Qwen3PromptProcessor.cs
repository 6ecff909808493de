using System.Text.Json.Nodes;
using QwenAspire.Engine.Sampling;
using QwenAspire.Text;
using QwenAspire.Text.Templating;
using QwenAspire.Text.Tokenization;

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

    /// <summary>The engine's per-request detokenizer factory (the tokenizer's own; it never splits a UTF-8 character).</summary>
    public Func<SamplingParams, ITextDecoder> DecoderFactory =>
        sampling => tokenizer.CreateDetokenizer(sampling.SkipSpecialTokens);
}

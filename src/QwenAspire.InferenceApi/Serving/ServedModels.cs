using System.Text.Json.Nodes;
using QwenAspire.Engine.Generation;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>What serving needs from the checkpoint's tokenizer and chat template.</summary>
public interface IPromptProcessor
{
    int[] Encode(string text);
    string Decode(IReadOnlyList<int> tokenIds, bool skipSpecialTokens);
    /// <summary>Renders a conversation with the checkpoint's own chat template.</summary>
    /// <exception cref="ChatTemplateRejectedException">The template raised an error (bad conversation: HTTP 400).</exception>
    string RenderChat(JsonArray messages, JsonArray? tools, bool addGenerationPrompt, IReadOnlyDictionary<string, JsonNode?> kwargs);
}

/// <summary>The chat template refused the conversation (its <c>raise_exception</c>); the message is the template's.</summary>
public sealed class ChatTemplateRejectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Sampling values used where a request sets none: service_config.yaml, else generation_config.json.</summary>
public sealed record SamplingDefaults(float Temperature = 1f, float TopP = 1f, int TopK = 0, float MinP = 0f, float RepetitionPenalty = 1f);

/// <summary>
/// The served model set: one base checkpoint and its LoRA adapters, each under a served name, all behind one
/// engine loop. Built by the model loader once loading has finished; the adapter names are the engine's, read
/// on every call, so an adapter loaded or unloaded at run time is seen at once by /v1/models, by request
/// resolution and by the "served models" list of a 404.
/// </summary>
public sealed class ServedModels
{
    public required string BaseName { get; init; }
    public required IInferenceEngine Engine { get; init; }
    public required IPromptProcessor Prompt { get; init; }
    public required int MaxContextLength { get; init; }
    public required int VocabSize { get; init; }
    public SamplingDefaults Defaults { get; init; } = new();
    /// <summary>Served adapter name → its thinking default (<c>model.adapters.NAME.enable_thinking</c>); others use the server's.</summary>
    public IReadOnlyDictionary<string, bool> ThinkingDefaults { get; init; } = new Dictionary<string, bool>();
    /// <summary>response_format json modes (null: this host cannot constrain output, they answer 400).</summary>
    public StructuredOutputs? StructuredOutputs { get; init; }
    public long CreatedUnixSeconds { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>False when a single adapter is merged into the weights: the base model itself is then not served.</summary>
    public bool BaseServed { get; init; } = true;

    /// <summary>The adapter merged into the weights (<c>model.merge_single_adapter</c>), else null; it cannot be unloaded.</summary>
    public string? MergedAdapter { get; init; }

    /// <summary>Adapters served right now, the merged one first.</summary>
    public IReadOnlyList<string> AdapterNames
    {
        get
        {
            var live = Engine.AdapterNames;
            return MergedAdapter is null || live.Contains(MergedAdapter) ? [.. live] : [MergedAdapter, .. live];
        }
    }

    public IEnumerable<string> Names => BaseServed ? [BaseName, .. AdapterNames] : AdapterNames;

    /// <summary>Maps a served name to the adapter to run (null: the base model).</summary>
    public bool TryResolve(string model, out string? adapter)
    {
        adapter = null;
        if (BaseServed && string.Equals(model, BaseName, StringComparison.Ordinal)) return true;
        foreach (var name in AdapterNames)
            if (string.Equals(model, name, StringComparison.Ordinal))
            {
                adapter = name;
                return true;
            }
        return false;
    }
}

using System.Text.Json;
using QwenAspire.Engine.Model.SafeTensors;
using QwenAspire.Text.Assets;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.Engine.Model.Generator;

/// <summary>
/// Writes a tiny Qwen3 checkpoint whose weights encode a bigram table, so that it deterministically "says"
/// a script. It exists because the random-weight demo model never emits <c>&lt;think&gt;</c>,
/// <c>&lt;tool_call&gt;</c> or <c>&lt;|im_end|&gt;</c>: with this model the reasoning split, tool-call parsing
/// and stop-on-eos paths run end to end through the real loader, Qwen3 forward and sampler, with no
/// special-cased code anywhere.
/// </summary>
/// <remarks>
/// Construction: every layer's <c>o_proj</c> and <c>down_proj</c> are zero, so attention and MLP (computed
/// for real, from recipe weights) add nothing and each position's residual stream is its token embedding.
/// Script token k (all but the last) embeds as the basis vector e_k; every other token embeds as zero. The
/// final RMSNorm (weight 1) turns e_k into √hidden·e_k, so an lm_head row (L/√hidden)·e_a gives its token
/// logit L after token a and 0 elsewhere. With L = <see cref="LogitGap"/> the next script token wins by
/// e^40 over each of the other 151,935 tokens, greedy or at Qwen3's default temperature 0.6. After a token
/// outside the script all logits are 0 (uniform noise).
/// The first script entry is the trigger: the prompt's last token (<c>\n</c> after
/// <c>&lt;|im_start|&gt;assistant</c>), which is never generated itself.
/// </remarks>
public static class ScriptedModel
{
    /// <summary>Logit of the scripted successor (all other tokens: 0).</summary>
    public const double LogitGap = 40;

    /// <summary>Hidden size: the number of distinct script tokens that can have a successor.</summary>
    public const int HiddenSize = 64;

    /// <summary>
    /// Qwen3's answer shape: thinking, then content, then <c>&lt;|im_end|&gt;</c>. "\n\n" → "Hello" also covers
    /// enable_thinking=false, whose prompt ends in <c>&lt;think&gt;\n\n&lt;/think&gt;\n\n</c>.
    /// </summary>
    public static IReadOnlyList<string> ChatScript { get; } =
        ["\n", "<think>", "Let", " me", " think", ".", "</think>", "\n\n", "Hello", "!", "<|im_end|>"];

    /// <summary>
    /// A Qwen3 tool call, spelled so that no token repeats:
    /// <c>&lt;tool_call&gt;{"name":"get_weather","arguments":{"city": "Paris"}}&lt;/tool_call&gt;</c>.
    /// </summary>
    public static IReadOnlyList<string> ToolCallScript { get; } =
        ["\n", "<tool_call>", "{\"", "name", "\":\"", "get", "_weather", "\",\"", "arguments", "\":{\"", "city", "\":", " \"", "Paris", "\"}}",
            "</tool_call>", "<|im_end|>"];

    public static IReadOnlyList<string> PresetNames { get; } = ["scripted", "scripted-tool-call"];

    public static IReadOnlyList<string> PresetScript(string preset) => preset switch
    {
        "scripted" => ChatScript,
        "scripted-tool-call" => ToolCallScript,
        _ => throw new ArgumentException($"unknown scripted preset '{preset}'; known: {string.Join(", ", PresetNames)}.", nameof(preset)),
    };

    /// <summary>
    /// Token ids of <paramref name="script"/>: each piece must encode to exactly one token and no token may
    /// repeat (a bigram table gives each token one successor).
    /// </summary>
    public static int[] ResolveTokens(Qwen3Tokenizer tokenizer, IReadOnlyList<string> script)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(script);
        if (script.Count < 2) throw new ArgumentException("a script needs a trigger token and at least one token to generate.", nameof(script));
        if (script.Count - 1 > HiddenSize)
            throw new ArgumentException($"a script may have at most {HiddenSize + 1} tokens (one direction of the {HiddenSize}-dim residual per token with a successor); got {script.Count}.", nameof(script));
        var ids = new int[script.Count];
        var seen = new Dictionary<int, int>();
        for (var i = 0; i < script.Count; i++)
        {
            var encoded = tokenizer.Encode(script[i]);
            if (encoded.Length != 1)
                throw new ArgumentException($"script piece {i} ({JsonSerializer.Serialize(script[i])}) encodes to {encoded.Length} tokens; every piece must be one token.", nameof(script));
            if (seen.TryGetValue(encoded[0], out var earlier))
                throw new ArgumentException($"script pieces {earlier} and {i} ({JsonSerializer.Serialize(script[i])}) are the same token {encoded[0]}; a bigram script needs unique tokens.", nameof(script));
            seen[encoded[0]] = i;
            ids[i] = encoded[0];
        }
        return ids;
    }

    /// <summary>Writes the preset's HF folder (config, generation config, safetensors, real tokenizer).</summary>
    public static GeneratedFile Write(string directory, string preset) => Write(directory, PresetScript(preset));

    /// <summary>Writes an HF folder whose model, prompted so its last token is <c>script[0]</c>, generates <c>script[1..]</c>.</summary>
    public static GeneratedFile Write(string directory, IReadOnlyList<string> script)
    {
        var ids = ResolveTokens(Qwen3Tokenizer.LoadEmbedded(), script);
        var configJson = CheckpointWriter.HfConfig(hidden: HiddenSize, intermediate: 128, layers: 1, heads: 4, kvHeads: 2, headDim: 16,
            maxPositions: 4096, tied: false, dtype: "float32", maxWindowLayers: 1);
        var config = JsonSerializer.Deserialize<Qwen3Config>(configJson.ToJsonString())!;
        Directory.CreateDirectory(directory);
        var indented = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, "config.json"), configJson.ToJsonString(indented) + "\n");
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), CheckpointWriter.GenerationConfig().ToJsonString(indented) + "\n");
        Qwen3Assets.CopyTo(directory);

        var hidden = config.HiddenSize;
        var rowValue = (float)(LogitGap / Math.Sqrt(hidden));
        var tensors = Qwen3Weights.Expected(config).Select(e =>
        {
            Action<Span<float>> fill = e.Name switch
            {
                Qwen3Weights.EmbedTokens => values =>
                {
                    for (var k = 0; k < ids.Length - 1; k++) values[ids[k] * hidden + k] = 1f; // (vocab, hidden): e_k
                }
                ,
                Qwen3Weights.LmHead => values =>
                {
                    for (var k = 0; k < ids.Length - 1; k++) values[ids[k + 1] * hidden + k] = rowValue; // row of successor reads e_k
                }
                ,
                Qwen3Weights.FinalNorm => values => values.Fill(1f),
                _ when e.Name.EndsWith("o_proj.weight", StringComparison.Ordinal) || e.Name.EndsWith("down_proj.weight", StringComparison.Ordinal)
                    => _ => { }
                , // zero: the blocks leave the residual stream untouched
                _ => CheckpointWriter.RecipeFill("scripted/" + e.Name, e.Shape.Length == 1 ? null : 0.25),
            };
            return (e.Name, e.Shape, fill);
        }).ToList();
        return CheckpointWriter.WriteTensors(Path.Combine(directory, SafeTensorsCheckpoint.SingleFileName), tensors, SafeTensorDType.F32, null);
    }
}

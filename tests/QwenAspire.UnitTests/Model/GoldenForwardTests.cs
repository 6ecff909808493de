using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Lora;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model;

/// <summary>
/// End-to-end forward checks against the fixture's llama.cpp goldens through the paged batched forward: every
/// dumped prompt position from one prefill step, then 32 greedy tokens decoded one step at a time over the
/// paged pool (blocks of 16, crossing block boundaries), each step's row compared.
/// </summary>
[Collection(TinyModelsCollection.Name)]
public sealed class GoldenForwardTests(TinyModels models)
{
    private const double F32Tolerance = 1e-3;

    [Theory]
    [InlineData("base", "f32", null, true, PagedAttentionPath.Auto)]
    [InlineData("base", "f32", null, true, PagedAttentionPath.Torch)]
    [InlineData("untied", "f32", null, true, PagedAttentionPath.Auto)]
    [InlineData("bf16", "f32", null, true, PagedAttentionPath.Auto)] // bf16 weights widened exactly to f32, f32 compute
    [InlineData("lora-all", "f32", "lora-all", true, PagedAttentionPath.Auto)]
    [InlineData("lora-all", "f32", "lora-all", false, PagedAttentionPath.Auto)]
    [InlineData("lora-rs", "f32", "lora-rs", true, PagedAttentionPath.Auto)]
    [InlineData("lora-rs", "f32", "lora-rs", false, PagedAttentionPath.Torch)]
    public void LogitsAndGreedyContinuationsMatchGoldens(string variant, string dtype, string? adapter, bool merged, PagedAttentionPath path)
    {
        using var model = LoadVariant(variant, dtype, adapter, merged, out var slot);
        model.AttentionPath = path;
        var failures = new List<string>();
        foreach (var prompt in Golden.Load(variant))
            failures.AddRange(RunPrompt(model, prompt, slot, F32Tolerance, F32Tolerance, greedyMarginLimit: 0));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
    }

    /// <summary>
    /// bf16 weights with reduced-precision matmul inputs for short steps: the README's bf16 rules (top-20
    /// |Δ| ≤ 0.5, lse ≤ 0.25, top-1 and greedy only while the golden margin exceeds 0.5).
    /// </summary>
    [Fact]
    public void Bf16WeightsWithBf16MatmulsStayWithinTheBf16Tolerances()
    {
        using var model = LoadVariant("bf16", "bf16", null, true, out _);
        Assert.Equal(ModelDType.BF16, model.DType);
        var failures = new List<string>();
        foreach (var prompt in Golden.Load("bf16"))
            failures.AddRange(RunPrompt(model, prompt, 0, 0.5, 0.25, greedyMarginLimit: 0.5, kvDType: ScalarType.BFloat16));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
    }

    private Qwen3ForCausalLM LoadVariant(string variant, string dtype, string? adapter, bool merged, out int slot)
    {
        var folder = variant switch { "untied" => models.Untied, "bf16" => models.Bf16, _ => models.Base };
        var model = Qwen3ForCausalLM.Load(folder, new ModelLoadOptions { DType = dtype });
        slot = 0;
        if (adapter is null) return model;
        using var lora = LoraAdapter.Load(adapter, adapter == "lora-all" ? models.LoraAll : models.LoraRs, model.Config);
        if (merged)
        {
            model.MergeAdapter(lora);
        }
        else
        {
            model.AttachAdapter(lora, 1);
            slot = 1;
        }
        return model;
    }

    /// <param name="greedyMarginLimit">0: require every greedy token; else stop comparing at the first step whose golden margin is below it.</param>
    private static List<string> RunPrompt(Qwen3ForCausalLM model, GoldenPrompt prompt, int slot, double logitTol, double lseTol, double greedyMarginLimit,
        ScalarType kvDType = ScalarType.Float32)
    {
        var failures = new List<string>();
        using var cache = new PagedKvCache(model.Config, 16, 64, kvDType, model.Device);
        var pool = new PagedSequences(cache.BlockSize, cache.BlockCount);
        var vocab = model.Config.VocabSize;
        var prefill = pool.Add(slot);
        using (var logits = model.Forward(pool.Step(prefill, prompt.Ids, [.. prompt.Positions.Select(p => p.Pos)]), cache))
        {
            var rows = logits.data<float>().ToArray();
            for (var r = 0; r < prompt.Positions.Length; r++)
            {
                var golden = prompt.Positions[r];
                var top1Required = greedyMarginLimit == 0 || golden.Top20[0].Logit - golden.Top20[1].Logit > greedyMarginLimit;
                var failure = Golden.Compare($"{prompt.Prompt} prefill", golden, rows.AsSpan(r * vocab, vocab), logitTol, lseTol, top1Required);
                if (failure is not null) failures.Add(failure);
            }
        }
        pool.Free(prefill);
        // Greedy: step 0 is the prompt's prefill (its last row); steps 1.. are single-row decodes over the pool.
        var sequence = pool.Add(slot);
        var next = prompt.Ids;
        for (var step = 0; step < prompt.Greedy.Length; step++)
        {
            using var logits = model.Forward(pool.Step(sequence, next), cache);
            var row = logits.data<float>().ToArray();
            var golden = prompt.GreedySteps[step];
            var margin = golden.Top20[0].Logit - golden.Top20[1].Logit;
            if (greedyMarginLimit > 0 && margin < greedyMarginLimit) break; // bf16 may legitimately diverge from here
            var failure = Golden.Compare($"{prompt.Prompt} greedy step {step}", golden, row, logitTol, lseTol);
            if (failure is not null) failures.Add(failure);
            var token = Golden.ArgMax(row);
            if (token != prompt.Greedy[step])
            {
                failures.Add($"{prompt.Prompt} greedy step {step}: token {token}, golden {prompt.Greedy[step]}");
                break;
            }
            next = [token];
        }
        return failures;
    }
}

using System.Diagnostics;
using QwenAspire.Engine;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Weights;
using static TorchSharp.torch;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-quality</c>: next-token distributions of each quantization mode against the unquantized bf16 path
/// over one fixed token stream (seeded), decoded one token at a time so the decode kernels are what is measured:
/// mean KL(p_bf16 ‖ p_mode) in nats, its maximum, and top-1 agreement. Issue targets: int8 KL ≤ 0.01, top-1 ≥ 98 %.
/// </summary>
/// <remarks>
/// A random-weight model has near-uniform next-token distributions, so many positions have a bf16 top-2 margin far
/// below any quantization noise and their top-1 is a coin toss. Besides the raw agreement it prints the agreement
/// over the positions whose bf16 top-1 − top-2 log-probability margin exceeds 3σ, σ being that position's standard
/// deviation of (log p_mode − log p_bf16) over the vocabulary (the mode's own noise), and how many positions that is.
/// Extra modes: <c>int4-q4k</c> is int4 with Q4_K's 6-bit sub-scales (a faithful Q4_K for comparison);
/// <c>--lm-head int8</c> keeps the lm_head at int8 whatever the mode (as Q4_K_M keeps its output at Q6_K).
/// <para><c>--text FILE --chunk N</c> measures what <c>llama-perplexity --kl-divergence -c N</c> measures, on the same
/// text: the file tokenized by the model's tokenizer, cut into chunks of N tokens each decoded from an empty cache,
/// KL over the second half of every chunk (the positions llama.cpp scores), so its Q4_K_M figure and ours compare.</para>
/// </remarks>
internal static class QualityBench
{
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var modelDir = cl.Require("model");
        var tokens = cl.Int("tokens", 64);
        var threads = cl.Int("threads", 2);
        var group = cl.Int("group", ModelLoadOptions.DefaultQuantizationGroupSize);
        var lmHeadMode = cl.Get("lm-head") ?? ((cl.Get("quantize-lm-head") ?? "true") == "true" ? "same" : "bf16");
        var lmHead = lmHeadMode != "bf16";
        var modes = (cl.Get("modes") ?? "int8,int4").Split(',').ToList();
        TorchRuntime.SetThreads(threads);
        Console.WriteLine($"load avg before: {File.ReadAllText("/proc/loadavg").Trim()}  threads {threads}  stream {tokens} tokens  group {group}  lm_head {lmHeadMode}");
        using var inference = inference_mode();

        var random = new Random(20261202);
        using var reference = Load(modelDir, WeightQuantization.None, group, lmHead, lmHeadMode);
        var chunk = cl.Int("chunk", 0);
        int[] stream;
        if (cl.Get("text") is { } textFile)
        {
            var tokenizer = QwenAspire.Text.Tokenization.Qwen3Tokenizer.Load(Path.Combine(modelDir, "tokenizer.json"));
            var all = tokenizer.Encode(File.ReadAllText(textFile));
            if (chunk <= 1) chunk = Math.Min(all.Length, tokens);
            var chunks = Math.Min(all.Length, tokens) / chunk;
            if (chunks == 0) throw new ArgumentException($"--text has {all.Length} tokens, fewer than one chunk of {chunk}.");
            stream = all[..(chunks * chunk)];
            Console.WriteLine($"text {textFile}: {all.Length} tokens, {chunks} chunk(s) of {chunk}, KL over the second half of each ({chunks * (chunk - chunk / 2 - 1)} positions)");
        }
        else
        {
            stream = Enumerable.Range(0, tokens).Select(_ => random.Next(0, reference.Config.VocabSize)).ToArray();
        }
        using var expected = Scored(reference, stream, chunk); // (T, vocab) f64
        Console.WriteLine($"reference bf16: mean entropy {Entropy(expected):0.000} nats (a near-uniform distribution makes top-1 agreement a coin toss)");
        using var top2 = expected.topk(2, -1).values; // (T, 2)
        using var margin = top2.select(1, 0).sub(top2.select(1, 1)); // (T,)
        foreach (var name in modes)
        {
            var q4k = name == "int4-q4k";
            var mode = WeightQuantizations.Parse(q4k ? "int4" : name);
            WeightQuantizer.Int4SubScaleLevels = q4k ? 63 : WeightQuantizer.DefaultInt4SubScaleLevels;
            var clock = Stopwatch.StartNew();
            using var model = Load(modelDir, mode, group, lmHead, lmHeadMode);
            var loadSeconds = clock.Elapsed.TotalSeconds;
            WeightQuantizer.Int4SubScaleLevels = WeightQuantizer.DefaultInt4SubScaleLevels;
            using var actual = Scored(model, stream, chunk);
            using var kl = expected.exp().mul(expected.sub(actual)).sum(-1); // (T,)
            using var same = expected.argmax(-1).eq(actual.argmax(-1)).to(ScalarType.Float64);
            using var noise = actual.sub(expected).std(-1); // (T,)
            using var decided = margin.gt(noise.mul(3));
            var count = decided.sum().item<long>();
            var decidedAgreement = count == 0 ? double.NaN : same.masked_select(decided).mean().item<double>();
            Console.WriteLine($"{name,-8} vs bf16: mean KL {kl.mean().item<double>():0.00000} nats  max KL {kl.max().item<double>():0.00000}  top-1 agreement {100 * same.mean().item<double>():0.0} %" +
                $"  margin > 3σ: {100 * decidedAgreement:0.0} % of {count}/{expected.shape[0]}  (σ mean {noise.mean().item<double>():0.0000})  (load+quantize {loadSeconds:0.0} s)");
        }
        Console.WriteLine($"load avg after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static Qwen3ForCausalLM Load(string dir, WeightQuantization mode, int group, bool lmHead, string lmHeadMode)
    {
        var int8Head = lmHeadMode == "int8" && mode != WeightQuantization.None;
        var model = Qwen3ForCausalLM.Load(dir, new ModelLoadOptions { DType = "bf16", Quantization = mode, QuantizationGroupSize = group, QuantizeLmHead = lmHead && !int8Head });
        // A tied lm_head shares the embedding tensor: quantizing it must leave that alive.
        if (int8Head) model.LmHead.Quantize(WeightQuantization.Int8, group, ownsOld: !ReferenceEquals((model.LmHead.Weight as DenseWeight)?.Tensor, model.EmbedTokens));
        return model;
    }

    /// <summary>
    /// The stream whole (<paramref name="chunk"/> 0), or per chunk of that many tokens from an empty cache keeping the
    /// second half of each chunk's rows (llama-perplexity's KL positions).
    /// </summary>
    private static Tensor Scored(Qwen3ForCausalLM model, int[] stream, int chunk)
    {
        if (chunk <= 0) return LogProbs(model, stream);
        var parts = new List<Tensor>();
        try
        {
            for (var c = 0; c + chunk <= stream.Length; c += chunk)
            {
                using var rows = LogProbs(model, stream[c..(c + chunk)]);
                parts.Add(rows.narrow(0, chunk / 2, chunk - chunk / 2 - 1).clone()); // rows predicting tokens first+1 .. chunk-1
            }
            return cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>(T, vocab) f64 log-probabilities of the next token after each prefix of the stream, one decode step each.</summary>
    private static Tensor LogProbs(Qwen3ForCausalLM model, int[] stream)
    {
        const int BlockSize = 16;
        using var cache = new PagedKvCache(model.Config, BlockSize, (stream.Length + BlockSize - 1) / BlockSize, ScalarType.Float32, model.Device);
        var pool = new BenchSequences(BlockSize, cache.BlockCount);
        var sequence = pool.Add();
        var rows = new List<Tensor>(stream.Length);
        try
        {
            foreach (var token in stream)
            {
                using var logits = model.Forward(pool.Step([(sequence, [token])]), cache); // (1, vocab)
                rows.Add(logits.to(ScalarType.Float64).log_softmax(-1));
            }
            return cat(rows, 0);
        }
        finally
        {
            foreach (var r in rows) r.Dispose();
        }
    }

    private static double Entropy(Tensor logProbs)
    {
        using var h = logProbs.exp().mul(logProbs).sum(-1).neg().mean();
        return h.item<double>();
    }
}

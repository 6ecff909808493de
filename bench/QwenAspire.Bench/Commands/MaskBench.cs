using System.Diagnostics;
using System.Text;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.Engine.Sampling.LogitsProcessors;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-mask [--model DIR | --step-ms X] [--threads 2] [--decode 16] [--repeats 3]</c>: the cost of structured
/// output per decode step on the real Qwen3 vocabulary (151,936 logits). Each grammar of <see cref="MaskBenchCases"/>
/// walks a document a model could write, token by token as the tokenizer splits it: per step the mask (cache
/// lookup or trie walk), its application to a logits row and the advance, with a fresh grammar (cold: a first
/// request) and again on the same one (warm: the per-request cache hit, what a long-running server sees).
/// Against a batch-1 decode step of the model in <c>--model</c> (qwen3-1.7b shapes, measured in this process
/// after the masks) or <c>--step-ms</c> (measured elsewhere, e.g. bench-model's ms/token).
/// </summary>
public static class MaskBench
{
    public const string UsageText = "bench-mask      [--model DIR | --step-ms X] [--threads 2] [--decode 16] [--repeats 3]";

    private sealed record Row(string Name, int Tokens, double FirstMs, double ColdMeanMs, double ColdMaxMs, double WarmMeanMs, double WarmP99Ms, double WarmMaxMs, long Walks);

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var repeats = cl.Int("repeats", 3);
        Console.WriteLine($"bench-mask {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC (machine above)");

        var clock = Stopwatch.StartNew();
        var tokenizer = Qwen3Tokenizer.LoadEmbedded();
        var eos = tokenizer.TokenToId("<|im_end|>")!.Value;
        var vocabulary = TokenVocabulary.FromTokenizer(tokenizer, [eos, tokenizer.TokenToId("<|endoftext|>")!.Value]);
        var strings = vocabulary.Strings;
        Console.WriteLine($"tokenizer + vocabulary + trie + string table {clock.Elapsed.TotalMilliseconds:F0} ms ({vocabulary.Count:N0} ids, {vocabulary.Trie.NodeCount:N0} trie nodes, " +
                          $"{strings.InsideIds.Length:N0} tokens stay inside a string, {strings.Exits.Length:N0} close one)");

        var schemaText = MaskBenchCases.ThirtyPropertySchema();
        Console.WriteLine($"compile a 30-property schema: {CompileMs(() => MaskBenchCases.SchemaOnly(schemaText)):F3} ms; " +
                          $"the 3-tool forced-call grammar: {CompileMs(() => MaskBenchCases.All[2].Compile(vocabulary)):F3} ms (mean of 200, after one JIT run)");

        var rows = new List<Row>();
        foreach (var c in MaskBenchCases.All)
        {
            var tokens = tokenizer.Encode(c.Document).Append(eos).ToArray();
            Row? best = null;
            for (var r = 0; r < repeats; r++) // best of repeats on fresh grammars: the machine is shared
            {
                var constraint = new JsonConstraint(c.Compile(vocabulary), vocabulary);
                var cold = Walk(constraint, tokens, r);
                var warm = Walk(constraint, tokens, r);
                var sorted = warm.Order().ToArray();
                var row = new Row(c.Name, tokens.Length, cold[0], cold.Average(), cold.Max(), warm.Average(), sorted[(int)(0.99 * (sorted.Length - 1))], sorted[^1], constraint.Computed);
                if (best is null || row.ColdMeanMs + row.WarmMeanMs < best.ColdMeanMs + best.WarmMeanMs) best = row;
            }
            rows.Add(best!);
        }

        var stepMs = cl.Get("step-ms") is { } s ? double.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : (double?)null;
        if (cl.Get("model") is { } modelDir) stepMs = MaskBenchDecode.StepMs(modelDir, cl.Int("threads", 2), cl.Int("decode", 16));
        Console.WriteLine(stepMs is { } ms ? $"batch-1 decode step: {ms:F1} ms ({(cl.Get("model") is null ? "--step-ms, measured elsewhere" : "measured here")})" : "no decode step (--model or --step-ms): ms only");
        Console.WriteLine();
        Console.WriteLine("| grammar | tokens | first mask ms | cold mean ms | cold max ms | warm mean ms | warm p99 ms | warm max ms | trie walks | warm mean % of step | cold mean % of step |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Name} | {r.Tokens} | {r.FirstMs:F3} | {r.ColdMeanMs:F3} | {r.ColdMaxMs:F3} | {r.WarmMeanMs:F3} | {r.WarmP99Ms:F3} | {r.WarmMaxMs:F3} | {r.Walks} | {Percent(r.WarmMeanMs, stepMs)} | {Percent(r.ColdMeanMs, stepMs)} |");
        Console.WriteLine($"load average after: {MachineInfo.LoadAverage()}");
        return 0;
    }

    private static string Percent(double ms, double? stepMs) => stepMs is { } s ? $"{100 * ms / s:F2} %" : "—";

    private static double CompileMs(Func<SchemaNode> compile)
    {
        compile(); // JIT
        var clock = Stopwatch.StartNew();
        const int compiles = 200;
        for (var i = 0; i < compiles; i++) compile();
        return clock.Elapsed.TotalMilliseconds / compiles;
    }

    /// <summary>
    /// Milliseconds per step of a walk over <paramref name="tokens"/>, timed like the engine's last logits stage:
    /// the mask (lookup or walk) applied to a full row, then the advance. Fails if the grammar refuses a token.
    /// </summary>
    private static double[] Walk(JsonConstraint constraint, int[] tokens, int seed)
    {
        var rng = new Random(seed);
        var vocabulary = constraint.Vocabulary;
        var processor = (IForcingProcessor)constraint.Create();
        var noise = new float[151_936];
        for (var i = 0; i < noise.Length; i++) noise[i] = (float)rng.NextDouble() * 8;
        var row = new float[noise.Length];
        var perStep = new double[tokens.Length];
        for (var step = 0; step < tokens.Length; step++)
        {
            noise.CopyTo(row, 0); // a fresh row each step, as the model writes one (not timed)
            var token = tokens[step];
            var t = Stopwatch.GetTimestamp();
            processor.Process(row);
            var masked = Stopwatch.GetElapsedTime(t);
            if (!float.IsFinite(row[token]) || (processor.ForcedToken >= 0 && processor.ForcedToken != token))
                throw new InvalidOperationException($"the grammar refuses token {token} ('{Encoding.UTF8.GetString(vocabulary.BytesOf(token))}') at step {step}.");
            t = Stopwatch.GetTimestamp();
            processor.OnGenerated(token); // the last token is eos: this throws unless the document completed the grammar
            perStep[step] = (masked + Stopwatch.GetElapsedTime(t)).TotalMilliseconds;
        }
        return perStep;
    }
}

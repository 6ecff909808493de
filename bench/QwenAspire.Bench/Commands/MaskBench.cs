using System.Diagnostics;
using System.Text;
using System.Text.Json;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.Engine.Sampling.LogitsProcessors;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-mask [--steps 300] [--vocab 151936] [--seed 1]</c>: the cost of structured output per decode step on
/// the real Qwen3 vocabulary. Prints the token-trie build, the cold mask (trie walk) of typical grammar states,
/// then the per-step cost of a constrained generation driven by random logits, with the cache cold (first
/// run) and warm (a second run on the same grammar), and the compile time of a 30-property schema.
/// </summary>
public static class MaskBench
{
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var steps = cl.Int("steps", 300);
        var rows = cl.Int("vocab", 151_936);
        var seed = cl.Int("seed", 1);
        Console.WriteLine($"bench-mask: {Environment.ProcessorCount} cores visible, load average {LoadAverage()}, logits row {rows}");

        var clock = Stopwatch.StartNew();
        var tokenizer = Qwen3Tokenizer.LoadEmbedded();
        var tokenizerMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var vocabulary = TokenVocabulary.FromTokenizer(tokenizer, [tokenizer.TokenToId("<|im_end|>")!.Value, tokenizer.TokenToId("<|endoftext|>")!.Value]);
        Console.WriteLine($"tokenizer load {tokenizerMs:F0} ms; vocabulary + trie build {clock.Elapsed.TotalMilliseconds:F0} ms " +
                          $"({vocabulary.Trie.NodeCount:N0} trie nodes, longest token {vocabulary.Trie.MaxTokenBytes} bytes)");

        clock.Restart();
        var stringTokens = vocabulary.Strings;
        Console.WriteLine($"string-token table build {clock.Elapsed.TotalMilliseconds:F0} ms ({stringTokens.InsideIds.Length:N0} tokens stay inside a string, {stringTokens.Exits.Length:N0} close one)");
        var json = JsonConstraint.JsonObject(vocabulary);
        Console.WriteLine("cold mask per state (one trie walk each, best of 3 on fresh grammars):");
        string[] texts = ["", "{", "{\"name\":", "{\"name\":\"Al", "{\"name\":\"\\", "{\"n\":12", "{\"a\":[true,", "{\"a\":{\"b\":null}"];
        var states = texts.Select(t => (Label: t, Bytes: Encoding.UTF8.GetBytes(t)))
            .Append(("{\"name\":\"<E4> (mid UTF-8)", [.. "{\"name\":\""u8, 0xE4]));
        foreach (var (text, bytes) in states)
        {
            var best = double.MaxValue;
            var allowed = 0;
            for (var r = 0; r < 3; r++)
            {
                var fresh = JsonConstraint.JsonObject(vocabulary);
                var state = GrammarState.Initial(fresh.Root).Advance(bytes);
                var t = Stopwatch.GetTimestamp();
                allowed = fresh.MaskFor(state).Count;
                best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            Console.WriteLine($"  after {Quote(text),-30} {best,8:F3} ms  {allowed,7:N0} tokens allowed");
        }

        var schemaText = ThirtyPropertySchema();
        using var schemaDoc = JsonDocument.Parse(schemaText);
        JsonSchemaCompiler.Compile(schemaDoc.RootElement); // JIT
        clock.Restart();
        const int compiles = 200;
        SchemaNode? root = null;
        for (var i = 0; i < compiles; i++) root = JsonSchemaCompiler.Compile(schemaDoc.RootElement);
        Console.WriteLine($"compile a 30-property schema: {clock.Elapsed.TotalMilliseconds / compiles:F3} ms");

        foreach (var (name, constraint) in new[] { ("json_object", json), ("json_schema 30 properties", new JsonConstraint(root!, vocabulary)) })
        {
            for (var run = 1; run <= 2; run++)
            {
                var (perStep, tokens, finished) = Generate(constraint, rows, steps, seed);
                Console.WriteLine($"{name}, {(run == 1 ? "cold" : "warm")} cache: {perStep * 1000:F1} µs per step (mask + apply + advance) " +
                                  $"over {tokens} steps{(finished ? ", reached eos" : "")}; {constraint.CachedStates} states cached, {constraint.Computed} walks");
            }
        }
        Console.WriteLine($"load average after: {LoadAverage()}");
        return 0;
    }

    /// <summary>Mean milliseconds per constrained decode step, driven like the engine with random logits.</summary>
    private static (double PerStepMs, int Steps, bool Finished) Generate(ILogitsProcessorFactory constraint, int rows, int steps, int seed)
    {
        var rng = new Random(seed);
        var processor = (IForcingProcessor)constraint.Create();
        var vocabulary = ((JsonConstraint)constraint).Vocabulary;
        var row = new float[rows];
        var noise = new float[rows];
        for (var i = 0; i < rows; i++)
            noise[i] = (float)rng.NextDouble() * 4 + (vocabulary.BytesOf(i).IndexOf((byte)'"') >= 0 ? 3.5f : 0f);
        var closers = Enumerable.Range(0, vocabulary.Count).Where(i => vocabulary.BytesOf(i).IndexOfAny("}]"u8) >= 0).ToArray();
        var elapsed = TimeSpan.Zero;
        for (var step = 0; step < steps; step++)
        {
            // Fresh logits each step (not timed): jittered noise, quotes favoured so strings end, brackets after a third of the steps.
            for (var i = 0; i < rows; i++) row[i] = noise[i] + (float)rng.NextDouble();
            foreach (var id in vocabulary.EosTokenIds) row[id] += 8;
            if (step >= steps / 3) foreach (var id in closers) row[id] += 3.5f; // some content first, then wind down
            // Timed: the mask (lookup or walk) and its application, then the advance; not the pick (the sampler's anyway).
            var t = Stopwatch.GetTimestamp();
            processor.Process(row);
            elapsed += Stopwatch.GetElapsedTime(t);
            var token = processor.ForcedToken >= 0 ? processor.ForcedToken : ArgMaxFinite(row);
            t = Stopwatch.GetTimestamp();
            processor.OnGenerated(token);
            elapsed += Stopwatch.GetElapsedTime(t);
            if (vocabulary.IsEos(token)) return (elapsed.TotalMilliseconds / (step + 1), step + 1, true);
        }
        return (elapsed.TotalMilliseconds / steps, steps, false);
    }

    private static int ArgMaxFinite(float[] row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    private static string ThirtyPropertySchema()
    {
        var props = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            props.Add((i % 5) switch
            {
                0 => $"\"field_{i}\": {{\"type\": \"string\", \"maxLength\": 12}}",
                1 => $"\"field_{i}\": {{\"type\": \"integer\"}}",
                2 => $"\"field_{i}\": {{\"enum\": [\"red\", \"green\", \"blue\"]}}",
                3 => $"\"field_{i}\": {{\"type\": \"array\", \"items\": {{\"type\": \"number\"}}, \"maxItems\": 3}}",
                _ => $"\"field_{i}\": {{\"type\": [\"boolean\", \"null\"]}}",
            });
        }
        var required = string.Join(", ", Enumerable.Range(0, 30).Where(i => i % 3 != 2).Select(i => $"\"field_{i}\""));
        return $"{{\"type\": \"object\", \"properties\": {{{string.Join(", ", props)}}}, \"required\": [{required}], \"additionalProperties\": false}}";
    }

    private static string Quote(string s) => "'" + s + "'";

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

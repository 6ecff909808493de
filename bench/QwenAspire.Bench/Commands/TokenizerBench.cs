using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-tokenizer [--kb N] [--runs N] [--cases PATH]</c>: encodes ~100 KB of mixed Chinese/English
/// text built deterministically from the reference encode cases, with our tokenizer and, for a ratio,
/// Microsoft.ML.Tokenizers configured the same way (which is not exact on non-BMP letters, see report).
/// </summary>
public static class TokenizerBench
{
    private const string DefaultCases = "tests/QwenAspire.UnitTests/TestData/qwen3/encode_cases.jsonl";

    public static Task<int> RunAsync(string[] args)
    {
        var kb = IntOption(args, "--kb", 100);
        var runs = IntOption(args, "--runs", 5);
        var casesPath = FindUpwards(StringOption(args, "--cases") ?? DefaultCases);
        if (casesPath is null)
        {
            Console.Error.WriteLine($"bench-tokenizer: reference cases not found ({DefaultCases}); run from the repo or pass --cases PATH.");
            return Task.FromResult(2);
        }

        var text = BuildCorpus(casesPath, kb * 1024);
        var bytes = Encoding.UTF8.GetByteCount(text);
        var cjk = text.Count(c => c >= '\u4E00' && c <= '\u9FFF');
        Console.WriteLine($"corpus: {bytes / 1024.0:F1} KB UTF-8, {text.Length} chars, {cjk} CJK ideographs; {runs} warm runs; {Environment.ProcessorCount} cores visible");

        var load = Stopwatch.StartNew();
        var ours = Qwen3Tokenizer.LoadEmbedded();
        Console.WriteLine($"load Qwen3Tokenizer (embedded): {load.ElapsedMilliseconds} ms");
        ours.Encode(WarmUpText);
        var oursResult = Measure("Qwen3Tokenizer", () => ours.Encode(text).Length, bytes, runs);

        load.Restart();
        var ml = CreateMlTokenizer();
        Console.WriteLine($"load Microsoft.ML.Tokenizers BpeTokenizer: {load.ElapsedMilliseconds} ms");
        ml.EncodeToIds(WarmUpText);
        var mlResult = Measure("Microsoft.ML.Tokenizers", () => ml.EncodeToIds(text).Count, bytes, runs);

        Console.WriteLine($"ratio (ours / ML.Tokenizers), warm MB/s: {oursResult.WarmMbps / mlResult.WarmMbps:F2}x; cold: {oursResult.ColdMbps / mlResult.ColdMbps:F2}x");
        var same = ours.Encode(text).SequenceEqual(ml.EncodeToIds(text));
        Console.WriteLine($"ids identical on this corpus: {same}");
        return Task.FromResult(0);
    }

    // Compiles the encode path before timing, with words absent from the corpus so its caches stay cold.
    private const string WarmUpText = "Warm-up only: 预热一下 ωμέγα 9\n";

    private sealed record Result(double ColdMbps, double WarmMbps);

    private static Result Measure(string name, Func<int> encode, int bytes, int runs)
    {
        // The first pass (cold) fills the per-word caches; later passes show the steady state of a server.
        var sw = Stopwatch.StartNew();
        var tokens = encode();
        var cold = sw.Elapsed.TotalSeconds;
        var best = double.MaxValue;
        for (var i = 0; i < runs; i++)
        {
            sw.Restart();
            encode();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        var result = new Result(bytes / 1e6 / cold, bytes / 1e6 / best);
        Console.WriteLine($"{name,-24} {tokens} tokens | cold {cold * 1e3:F1} ms = {result.ColdMbps:F2} MB/s, {tokens / cold / 1e6:F2} M tok/s | warm best {best * 1e3:F1} ms = {result.WarmMbps:F2} MB/s, {tokens / best / 1e6:F2} M tok/s");
        return result;
    }

    /// <summary>Reference texts shuffled by a fixed LCG and joined by newlines until <paramref name="targetBytes"/>.</summary>
    private static string BuildCorpus(string casesPath, int targetBytes)
    {
        var texts = File.ReadAllText(casesPath).Split('\n')
            .Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("category").GetString() is "zh" or "en" or "mixed" or "code" or "cjk" or "numbers" or "whitespace")
            .Select(e => e.GetProperty("text").GetString()!)
            .ToArray();
        var sb = new StringBuilder();
        var bytes = 0;
        var state = 12345UL;
        while (bytes < targetBytes)
        {
            state = state * 6364136223846793005UL + 1442695040888963407UL;
            var t = texts[(int)((state >> 33) % (ulong)texts.Length)];
            sb.Append(t).Append('\n');
            bytes += Encoding.UTF8.GetByteCount(t) + 1;
        }
        return sb.ToString();
    }

    private static BpeTokenizer CreateMlTokenizer()
    {
        using var stream = QwenAspire.Text.Assets.Qwen3Assets.OpenRead(QwenAspire.Text.Assets.Qwen3Assets.TokenizerJson);
        using var doc = JsonDocument.Parse(stream);
        var model = doc.RootElement.GetProperty("model");
        var vocab = model.GetProperty("vocab").EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
        var merges = model.GetProperty("merges").EnumerateArray().Select(m => m[0].GetString() + " " + m[1].GetString()).ToList();
        var special = doc.RootElement.GetProperty("added_tokens").EnumerateArray()
            .ToDictionary(a => a.GetProperty("content").GetString()!, a => a.GetProperty("id").GetInt32());
        var split = doc.RootElement.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0].GetProperty("pattern").GetProperty("Regex").GetString()!;
        return BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = special,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(split, RegexOptions.Compiled), special),
            Normalizer = new NfcNormalizer(),
        });
    }

    private sealed class NfcNormalizer : Normalizer
    {
        public override string Normalize(string original) => original.Normalize(NormalizationForm.FormC);
        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(NormalizationForm.FormC);
    }

    private static string? FindUpwards(string relative)
    {
        if (Path.IsPathRooted(relative)) return File.Exists(relative) ? relative : null;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static string? StringOption(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int IntOption(string[] args, string name, int fallback)
    {
        var value = StringOption(args, name);
        if (value is null) return fallback;
        return int.TryParse(value, out var n) && n > 0 ? n : throw new ArgumentException($"{name} must be a positive integer, got '{value}'.", name);
    }
}

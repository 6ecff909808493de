using System.Diagnostics;
using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>make-model</c>: writes a random-weight Qwen3 HF folder (and optionally a PEFT adapter), or with
/// <c>--preset scripted</c> / <c>scripted-tool-call</c> a tiny model whose weights deterministically answer
/// with a thinking block and "Hello!" (or a get_weather tool call); see <see cref="ScriptedModel"/>.
/// </summary>
internal static class MakeModel
{
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var preset = cl.Require("preset");
        var outDir = cl.Require("out");
        var seed = cl.Long("seed", 0);
        var clock = Stopwatch.StartNew();
        var lastPercent = -10;
        var progress = new Progress(fraction =>
        {
            var percent = (int)(fraction * 100);
            if (percent < lastPercent + 10) return;
            lastPercent = percent;
            Console.WriteLine($"  {percent,3}%  {clock.Elapsed.TotalSeconds:0.0} s");
        });
        var model = ScriptedModel.PresetNames.Contains(preset)
            ? ScriptedModel.Write(outDir, preset)
            : ModelGenerator.Generate(preset, outDir, seed, progress);
        Console.WriteLine($"wrote {model.Path} in {clock.Elapsed.TotalSeconds:0.0} s, content sha256 {model.ContentSha256}");
        if (cl.Get("lora") is { } loraDir)
        {
            var adapter = ModelGenerator.GenerateAdapter(cl.Get("lora-preset") ?? "lora-all", preset, loraDir, seed);
            Console.WriteLine($"wrote {adapter.Path}, content sha256 {adapter.ContentSha256}");
        }
        return 0;
    }

    /// <summary>Synchronous progress (System.Progress posts to the thread pool and may print out of order).</summary>
    private sealed class Progress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}

using System.Diagnostics;
using QwenAspire.Bench.Gguf;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>make-gguf</c>: converts one of our Qwen3 HF folders to a BF16 or F32 GGUF for llama.cpp, so
/// llama-bench and llama-server run the very weights our server runs (ANCHORS.md); quantize it
/// further with llama-quantize. With <c>--lora</c> it converts a PEFT adapter for llama-server's <c>--lora</c>.
/// </summary>
internal static class MakeGguf
{
    public const string UsageText = "make-gguf       (--model DIR [--type bf16|f32] | --lora ADAPTER_DIR) --out FILE.gguf";

    public static int Run(string[] args)
    {
        try
        {
            var cl = new CommandLine(args);
            string outPath = cl.Require("out");
            if (cl.Get("lora") is { } adapterDir)
            {
                if (cl.Get("model") is not null) throw new ArgumentException("--model and --lora exclude each other (a LoRA GGUF is written on its own).");
                if (!Directory.Exists(adapterDir)) throw new ArgumentException($"--lora: folder '{adapterDir}' does not exist.");
                LoraToGguf.Convert(adapterDir, outPath, Console.WriteLine);
                Console.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length:N0} bytes)");
                return 0;
            }
            string modelDir = cl.Require("model");
            var type = (cl.Get("type") ?? "bf16") switch
            {
                "bf16" => GgmlType.BF16,
                "f32" => GgmlType.F32,
                var t => throw new ArgumentException($"--type '{t}': expected bf16 or f32."),
            };
            if (!Directory.Exists(modelDir)) throw new ArgumentException($"--model: folder '{modelDir}' does not exist.");
            var clock = Stopwatch.StartNew();
            Qwen3ToGguf.Convert(modelDir, outPath, type, Console.WriteLine);
            Console.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length:N0} bytes) in {clock.Elapsed.TotalSeconds:0.0} s");
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or IOException
                                       or QwenAspire.Engine.Model.ModelFormatException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"make-gguf: {ex.Message}\nusage: {UsageText}");
            return ex is ArgumentException ? 2 : 1;
        }
    }
}

using QwenAspire.Bench.Commands;

// One subcommand per file in Commands/; keep this a plain switch so parallel branches merge cleanly.
// Machines of one kind differ (AVX-512 BF16/VNNI or AVX2): every figure is printed under the CPU it came from.
if (args.Length > 0 && args[0].StartsWith("bench-", StringComparison.Ordinal))
    Console.WriteLine(MachineInfo.Describe());
return args.Length == 0 ? Usage() : args[0] switch
{
    "make-model" => MakeModel.Run(args[1..]),
    "make-gguf" => MakeGguf.Run(args[1..]),
    "make-lora" => MakeLora.Run(args[1..]),
    "bench-model" => ModelBench.Run(args[1..]),
    "bench-gemv" => GemvBench.Run(args[1..]),
    "bench-attention" => AttentionBench.Run(args[1..]),
    "bench-quality" => QualityBench.Run(args[1..]),
    "bench-tokenizer" => await TokenizerBench.RunAsync(args[1..]),
    "bench-template" => TemplateBench.Run(args[1..]),
    "bench-serve" => await ServeBench.RunAsync(args[1..]),
    "bench-mask" => MaskBench.Run(args[1..]),
    "bench-load" => await LoadBench.RunAsync(args[1..]),
    "bench-bandwidth" => BandwidthBench.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine($"""
        usage: QwenAspire.Bench <command> [options]
          make-model      --preset tiny|tiny-untied|tiny-bf16|qwen3-1.7b|scripted|scripted-tool-call --out DIR [--seed N] [--lora DIR] [--lora-preset lora-all|lora-rs]
          {MakeGguf.UsageText}
          {MakeLora.UsageText}
          bench-model     --model DIR [--threads 2] [--dtype bf16|f32|f16] [--prompt 512] [--decode 128] [--widen-above N] [--kernel on|off]
                          [--batch 1,4,8,16] [--context 256] [--batch-steps 16] [--kv-dtype bf16,f32] [--attention auto|torch] [--adapters DIR,DIR]
                          [--quantization none|int8|int4] [--group 32] [--quantize-lm-head true|false]
          bench-attention [--threads 2] [--batch 1,8,16] [--context 256,1024,4096] [--seconds 0.5]
          bench-gemv      [--threads 2] [--dtype bf16|f16] [--shapes 6144x2048,...] [--rows 1,4,8,16] [--seconds 1]
                          [--quantization none|int8|int4] [--group 32]
          bench-quality   --model DIR [--tokens 64] [--modes int8,int4] [--group 32] [--quantize-lm-head true|false] [--threads 2]
          bench-tokenizer [--kb 100] [--runs N]
          bench-template  [--iterations N] [--turns N]
          {ServeBench.UsageText}
          {MaskBench.UsageText}
          {LoadBench.UsageText}
          {BandwidthBench.UsageText}
        """);
    return 2;
}

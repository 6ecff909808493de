using QwenAspire.Bench.Commands;
using TorchSharp;

if (args is ["bench-tokenizer", ..])
    return await TokenizerBench.RunAsync(args[1..]);

var a = torch.randn(64, 64);
Console.WriteLine($"torch ok: {a.matmul(a).sum().item<float>():F3}, threads {torch.get_num_threads()}");
return 0;

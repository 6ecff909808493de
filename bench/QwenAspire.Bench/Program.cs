using TorchSharp;

var a = torch.randn(64, 64);
Console.WriteLine($"torch ok: {a.matmul(a).sum().item<float>():F3}, threads {torch.get_num_threads()}");

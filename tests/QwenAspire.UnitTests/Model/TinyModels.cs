using QwenAspire.Engine.Model.Generator;

namespace QwenAspire.UnitTests.Model;

/// <summary>
/// The tiny-qwen3 fixture regenerated once per test run from the weight recipe (the repo commits only the
/// golden files): base, untied and bf16 models plus both adapters, in a temp folder.
/// </summary>
public sealed class TinyModels : IDisposable
{
    public TinyModels()
    {
        // The tiny model gains nothing from a second thread, and on a busy 2-core machine OpenMP spin-waits
        // make 2-thread steps up to 20x slower; one thread keeps the suite fast and stable.
        TorchSharp.torch.set_num_threads(1);
        Root = Path.Combine(Path.GetTempPath(), "qwenaspire-tiny-" + Guid.NewGuid().ToString("N")[..8]);
        Files["model/model.safetensors"] = ModelGenerator.Generate("tiny", Base);
        Files["model-untied/model.safetensors"] = ModelGenerator.Generate("tiny-untied", Untied);
        Files["model-bf16/model.safetensors"] = ModelGenerator.Generate("tiny-bf16", Bf16);
        Files["lora-all/adapter_model.safetensors"] = ModelGenerator.GenerateAdapter("lora-all", "tiny", LoraAll);
        Files["lora-rs/adapter_model.safetensors"] = ModelGenerator.GenerateAdapter("lora-rs", "tiny", LoraRs);
    }

    public string Root { get; }
    public string Base => Path.Combine(Root, "model");
    public string Untied => Path.Combine(Root, "model-untied");
    public string Bf16 => Path.Combine(Root, "model-bf16");
    public string LoraAll => Path.Combine(Root, "lora-all");
    public string LoraRs => Path.Combine(Root, "lora-rs");
    /// <summary>Generated files keyed like golden/hashes.json ("model/model.safetensors", ...).</summary>
    public Dictionary<string, GeneratedFile> Files { get; } = [];

    /// <summary>A fresh scratch folder under the fixture root (deleted with it).</summary>
    public string Scratch(string name)
    {
        var path = Path.Combine(Root, "scratch", name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Copies a generated folder (for tests that corrupt it).</summary>
    public string CopyOf(string folder, string name)
    {
        var target = Scratch(name);
        foreach (var file in Directory.GetFiles(folder)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Mapped files may still be open on some platforms; the temp folder is only litter then.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TinyModelsCollection : ICollectionFixture<TinyModels>
{
    public const string Name = "tiny-qwen3 models";
}

using System.Reflection;

namespace QwenAspire.Text.Assets;

/// <summary>
/// The real Qwen3 tokenizer files embedded in this assembly (assets/qwen3, Apache-2.0), so the model
/// generator and the demo model work from the binary alone.
/// </summary>
public static class Qwen3Assets
{
    public const string TokenizerJson = "tokenizer.json";
    public const string TokenizerConfigJson = "tokenizer_config.json";
    public const string ChatTemplateJinja = "chat_template.jinja";
    public const string License = "LICENSE-Apache-2.0.txt";

    public static IReadOnlyList<string> Files { get; } = [TokenizerJson, TokenizerConfigJson, ChatTemplateJinja, License];

    /// <summary>Opens one embedded file by name (one of <see cref="Files"/>).</summary>
    public static Stream OpenRead(string fileName) =>
        typeof(Qwen3Assets).Assembly.GetManifestResourceStream("QwenAspire.Assets.qwen3." + fileName)
        ?? throw new FileNotFoundException($"Embedded asset '{fileName}' is missing from {typeof(Qwen3Assets).Assembly.GetName().Name}.", fileName);

    /// <summary>Writes every embedded file into <paramref name="directory"/> (created if needed).</summary>
    public static void CopyTo(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var name in Files)
        {
            using var source = OpenRead(name);
            using var target = File.Create(Path.Combine(directory, name));
            source.CopyTo(target);
        }
    }
}

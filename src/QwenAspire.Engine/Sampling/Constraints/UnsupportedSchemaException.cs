namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>A schema the compiler cannot turn into a grammar; <see cref="Path"/> names the keyword (e.g. <c>properties.age.minimum</c>).</summary>
public sealed class UnsupportedSchemaException(string path, string message) : Exception($"{path}: {message}")
{
    public string Path { get; } = path;
}

namespace QwenAspire.Engine.Model;

/// <summary>
/// A checkpoint, config or adapter that cannot be served as is. The message always names the file and,
/// where one is at fault, the field or tensor, so an operator can fix the input without a debugger.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string file, string message, Exception? inner = null)
        : base($"{file}: {message}", inner)
    {
        FilePath = file;
    }

    /// <summary>The file (or folder) the problem was found in.</summary>
    public string FilePath { get; }
}

using System.Text.Json;

namespace QwenAspire.Engine.Model;

/// <summary>Reads a checkpoint's JSON config file; bad JSON becomes a <see cref="ModelFormatException"/> naming the file and JSON path.</summary>
internal static class ConfigJson
{
    /// <summary>Null when the file holds JSON <c>null</c>.</summary>
    public static T? Read<T>(string path) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"bad JSON{(e.Path is null ? "" : $" at '{e.Path}'")}: {e.Message}", e);
        }
    }
}

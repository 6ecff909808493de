using System.Text.Json;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.SafeTensors;

/// <summary>
/// The weights of a Hugging Face folder: one <c>model.safetensors</c> or shards listed by
/// <c>model.safetensors.index.json</c> (<c>weight_map</c>: tensor name → shard file).
/// </summary>
public sealed class SafeTensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafeTensorsFile> _byTensor;
    private readonly List<SafeTensorsFile> _files;

    private SafeTensorsCheckpoint(List<SafeTensorsFile> files, Dictionary<string, SafeTensorsFile> byTensor)
    {
        _files = files;
        _byTensor = byTensor;
    }

    public IReadOnlyCollection<string> Names => _byTensor.Keys;
    public IReadOnlyList<SafeTensorsFile> Files => _files;
    public long TotalBytes => _files.Sum(f => f.Header.FileLength);

    public static SafeTensorsCheckpoint Open(string folder)
    {
        var single = Path.Combine(folder, SingleFileName);
        var index = Path.Combine(folder, IndexFileName);
        if (File.Exists(single)) return FromFiles([SafeTensorsFile.Open(single)], null);
        if (File.Exists(index)) return OpenSharded(folder, index);
        throw new ModelFormatException(folder, $"neither {SingleFileName} nor {IndexFileName} exists.");
    }

    public SafeTensorInfo Info(string name) => FileOf(name).Tensors[name];

    /// <summary>The file that holds <paramref name="name"/> (for error messages).</summary>
    public string PathOf(string name) => FileOf(name).Path;

    public Tensor Get(string name) => FileOf(name).Get(name);

    private SafeTensorsFile FileOf(string name) =>
        _byTensor.TryGetValue(name, out var file) ? file
            : throw new ModelFormatException(_files.Count == 1 ? _files[0].Path : Path.GetDirectoryName(_files[0].Path)!, $"tensor '{name}' is missing.");

    private static SafeTensorsCheckpoint OpenSharded(string folder, string index)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(index));
            if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(index, "field 'weight_map' is missing or not an object.");
            weightMap = map.EnumerateObject().ToDictionary(p => p.Name,
                p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()!
                    : throw new ModelFormatException(index, $"field 'weight_map.{p.Name}' is not a file name."), StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(index, $"bad JSON: {e.Message}", e);
        }
        var files = new List<SafeTensorsFile>();
        try
        {
            foreach (var shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                if (shard.Contains('/') || shard.Contains('\\'))
                    throw new ModelFormatException(index, $"weight_map names shard '{shard}' outside the model folder.");
                files.Add(SafeTensorsFile.Open(Path.Combine(folder, shard)));
            }
            return FromFiles(files, (weightMap, index));
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    private static SafeTensorsCheckpoint FromFiles(List<SafeTensorsFile> files, (Dictionary<string, string> Map, string Index)? sharding)
    {
        var byTensor = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (var name in file.Tensors.Keys)
            {
                if (byTensor.TryGetValue(name, out var other))
                    throw new ModelFormatException(file.Path, $"tensor '{name}' also appears in {other.Path}.");
                byTensor[name] = file;
            }
        if (sharding is { } s)
            foreach (var (name, shard) in s.Map)
                if (!byTensor.TryGetValue(name, out var holder) || Path.GetFileName(holder.Path) != shard)
                    throw new ModelFormatException(s.Index, $"weight_map puts tensor '{name}' in {shard}, but that shard does not hold it.");
        return new SafeTensorsCheckpoint(files, byTensor);
    }

    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
    }
}

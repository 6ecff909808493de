using TorchSharp;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.SafeTensors;

/// <summary>
/// A memory-mapped safetensors file. Tensors are views into a private (copy-on-write) mapping made by
/// <c>torch.from_file</c>, so opening a multi-GB checkpoint costs no reads and no anonymous memory until
/// a tensor is converted or written. There is no dtype-reinterpreting view in TorchSharp, so the file is
/// mapped once per element type it holds and each tensor is a slice of the mapping of its own type.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly Dictionary<SafeTensorDType, Tensor> _mappings = [];

    private SafeTensorsFile(SafeTensorsHeader header) => Header = header;

    public SafeTensorsHeader Header { get; }
    public string Path => Header.Path;
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors => Header.Tensors;

    public static SafeTensorsFile Open(string path) => new(SafeTensorsHeader.Read(path));

    /// <summary>
    /// The tensor as stored (its own dtype and shape). A zero-copy view of the mapping when the offset is
    /// aligned to the element size, else a copy read from the file. The view lives as long as this file
    /// object's mappings do; callers that keep it must convert or clone before <see cref="Dispose"/>.
    /// </summary>
    public Tensor Get(string name)
    {
        if (!Header.Tensors.TryGetValue(name, out var info))
            throw new ModelFormatException(Path, $"tensor '{name}' is not in this file.");
        var start = Header.DataStart + info.Begin;
        var size = info.DType.ElementSize();
        if (start % size != 0) return ReadCopy(info, start);
        var mapping = Mapping(info.DType);
        // The intermediate slice is disposed here: a leaked handle would pin the whole mapping until GC.
        using var flat = mapping.narrow(0, start / size, info.ElementCount);
        return flat.view(info.Shape);
    }

    private Tensor Mapping(SafeTensorDType dtype)
    {
        if (_mappings.TryGetValue(dtype, out var mapping)) return mapping;
        var elements = Header.FileLength / dtype.ElementSize();
        using (NewDisposeScope())
        {
            mapping = from_file(Path, shared: false, size: elements, dtype: dtype.ToScalarType()).DetachFromDisposeScope();
        }
        _mappings[dtype] = mapping;
        return mapping;
    }

    private Tensor ReadCopy(SafeTensorInfo info, long start)
    {
        var bytes = new byte[info.End - info.Begin];
        using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            stream.Position = start;
            stream.ReadExactly(bytes);
        }
        var tensor = empty(info.Shape, info.DType.ToScalarType());
        tensor.bytes = bytes;
        return tensor;
    }

    public void Dispose()
    {
        foreach (var mapping in _mappings.Values) mapping.Dispose();
        _mappings.Clear();
    }
}

using System.Buffers.Binary;
using System.Text.Json;

namespace QwenAspire.Engine.Model.SafeTensors;

/// <summary>One tensor's entry in a safetensors header; offsets are relative to the data section.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Parses and validates a safetensors header: 8-byte little-endian length, JSON, then the data section.
/// Every inconsistency (bad JSON, unknown dtype, offsets past the end of the file) is reported with the
/// file and tensor name, before any tensor is touched.
/// </summary>
public sealed class SafeTensorsHeader
{
    /// <summary>Headers above this size are refused as corrupt rather than read into memory.</summary>
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    private SafeTensorsHeader(string path, long dataStart, long fileLength, IReadOnlyDictionary<string, SafeTensorInfo> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        DataStart = dataStart;
        FileLength = fileLength;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }
    /// <summary>Absolute byte offset of the data section (8 + header length).</summary>
    public long DataStart { get; }
    public long FileLength { get; }
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafeTensorsHeader Read(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found.");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (fileLength < 8 || stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            throw new ModelFormatException(path, $"truncated: {fileLength} bytes, too short for the 8-byte safetensors header length.");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8)
            throw new ModelFormatException(path, $"header length {headerLength} does not fit the file ({fileLength} bytes): truncated or not a safetensors file.");
        var json = new byte[headerLength];
        stream.ReadExactly(json);
        return Parse(path, json, 8 + (long)headerLength, fileLength);
    }

    private static SafeTensorsHeader Parse(string path, byte[] json, long dataStart, long fileLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"bad safetensors header JSON: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(path, "bad safetensors header JSON: the root is not an object.");
            var dataLength = fileLength - dataStart;
            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in property.Value.EnumerateObject())
                            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                var info = ParseTensor(path, property);
                if (info.End > dataLength)
                    throw new ModelFormatException(path,
                        $"truncated: tensor '{info.Name}' data_offsets end at {info.End} but the data section has only {dataLength} bytes.");
                tensors[info.Name] = info;
            }
            return new SafeTensorsHeader(path, dataStart, fileLength, tensors, metadata);
        }
    }

    private static SafeTensorInfo ParseTensor(string path, JsonProperty property)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, $"tensor '{name}': header entry is not an object.");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new ModelFormatException(path, $"tensor '{name}': field 'dtype' is missing.");
        var dtypeText = dtypeElement.GetString()!;
        if (!SafeTensorDTypes.TryParse(dtypeText, out var dtype))
            throw new ModelFormatException(path, $"tensor '{name}': field 'dtype' is '{dtypeText}'; supported are F32, BF16, F16.");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException(path, $"tensor '{name}': field 'shape' is missing.");
        var shape = new long[shapeElement.GetArrayLength()];
        var index = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var d) || d < 0)
                throw new ModelFormatException(path, $"tensor '{name}': field 'shape' holds '{dim.GetRawText()}', not a dimension.");
            shape[index++] = d;
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw new ModelFormatException(path, $"tensor '{name}': field 'data_offsets' must be [begin, end] with 0 <= begin <= end.");
        var info = new SafeTensorInfo(name, dtype, shape, begin, end);
        if (info.ElementCount * dtype.ElementSize() != end - begin)
            throw new ModelFormatException(path,
                $"tensor '{name}': data_offsets span {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype.Name()} needs {info.ElementCount * dtype.ElementSize()}.");
        return info;
    }
}

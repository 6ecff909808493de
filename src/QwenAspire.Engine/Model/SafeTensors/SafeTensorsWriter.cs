using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace QwenAspire.Engine.Model.SafeTensors;

/// <summary>A tensor to write: its bytes are produced on demand so multi-GB files stream through.</summary>
/// <param name="WriteData">Writes exactly the tensor's little-endian bytes to the stream.</param>
public sealed record SafeTensorToWrite(string Name, SafeTensorDType DType, long[] Shape, Action<Stream> WriteData)
{
    public long ByteLength => Shape.Aggregate(1L, (a, b) => a * b) * DType.ElementSize();

    public static SafeTensorToWrite F32(string name, long[] shape, float[] values) =>
        new(name, SafeTensorDType.F32, shape, s => s.Write(MemoryMarshal.AsBytes(values.AsSpan())));

    public static SafeTensorToWrite BF16(string name, long[] shape, ushort[] values) =>
        new(name, SafeTensorDType.BF16, shape, s => s.Write(MemoryMarshal.AsBytes(values.AsSpan())));
}

/// <summary>
/// Writes a safetensors file: compact JSON header (metadata first, tensors in ordinal name order, padded
/// with spaces to a multiple of 8) and the data in the same order with no gaps, so the data section's
/// sha256 equals the fixture's "content sha256".
/// </summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IEnumerable<SafeTensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var header = BuildHeader(ordered, metadata ?? new Dictionary<string, string> { ["format"] = "pt" });
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".partial";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var tensor in ordered)
            {
                var before = stream.Position;
                tensor.WriteData(stream);
                if (stream.Position - before != tensor.ByteLength)
                    throw new InvalidOperationException($"tensor '{tensor.Name}' wrote {stream.Position - before} bytes, expected {tensor.ByteLength}.");
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    private static byte[] BuildHeader(List<SafeTensorToWrite> ordered, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata) json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            foreach (var tensor in ordered)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.Name());
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.ByteLength;
            }
            json.WriteEndObject();
        }
        var bytes = buffer.ToArray().ToList();
        while (bytes.Count % 8 != 0) bytes.Add((byte)' ');
        return [.. bytes];
    }
}

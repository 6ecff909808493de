using System.Text;

namespace QwenAspire.Bench.Gguf;

/// <summary>GGUF metadata value types (gguf.h, <c>enum gguf_type</c>).</summary>
internal enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9,
    UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>The ggml tensor types this writer emits (ggml.h, <c>enum ggml_type</c>).</summary>
internal enum GgmlType : uint { F32 = 0, F16 = 1, BF16 = 30 }

/// <summary>
/// A tensor to write. <paramref name="Ne"/> is in ggml order (ne[0] is the contiguous dimension), i.e. the
/// reverse of a row-major shape: an HF linear weight [out, in] has ne = [in, out].
/// </summary>
/// <param name="WriteData">Writes exactly <see cref="ByteLength"/> little-endian bytes.</param>
internal sealed record GgufTensor(string Name, long[] Ne, GgmlType Type, Action<Stream> WriteData)
{
    public long ByteLength => Ne.Aggregate(1L, (a, b) => a * b) * (Type == GgmlType.F32 ? 4 : 2);
}

/// <summary>
/// Writes a GGUF v3 file (llama.cpp ggml/include/gguf.h): magic, version, tensor and KV counts, the KV
/// pairs, the tensor infos, padding to the alignment, then each tensor's data at an aligned offset.
/// Everything is little-endian; strings are a uint64 length and UTF-8 bytes without a terminator.
/// </summary>
internal sealed class GgufWriter
{
    public const int Alignment = 32;   // GGUF_DEFAULT_ALIGNMENT; no general.alignment key is written
    private readonly List<(string Key, GgufValueType Type, Action<BinaryWriter> Value)> _metadata = [];

    public void Add(string key, string value) => Put(key, GgufValueType.String, w => WriteString(w, value));
    public void Add(string key, uint value) => Put(key, GgufValueType.UInt32, w => w.Write(value));
    public void Add(string key, float value) => Put(key, GgufValueType.Float32, w => w.Write(value));
    public void Add(string key, bool value) => Put(key, GgufValueType.Bool, w => w.Write((byte)(value ? 1 : 0)));

    public void Add(string key, IReadOnlyList<string> values) => Put(key, GgufValueType.Array, w =>
    {
        w.Write((uint)GgufValueType.String);
        w.Write((ulong)values.Count);
        foreach (var v in values) WriteString(w, v);
    });

    public void Add(string key, IReadOnlyList<int> values) => Put(key, GgufValueType.Array, w =>
    {
        w.Write((uint)GgufValueType.Int32);
        w.Write((ulong)values.Count);
        foreach (var v in values) w.Write(v);
    });

    private void Put(string key, GgufValueType type, Action<BinaryWriter> value)
    {
        if (_metadata.Any(m => m.Key == key)) throw new ArgumentException($"GGUF key '{key}' is added twice.");
        _metadata.Add((key, type, value));
    }

    /// <summary>Writes the file through "<paramref name="path"/>.partial" and renames it, so a crash leaves no half file under the name.</summary>
    public void Write(string path, IReadOnlyList<GgufTensor> tensors, Action<GgufTensor>? written = null)
    {
        var duplicate = tensors.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"tensor '{duplicate.Key}' is listed twice.");
        var temp = path + ".partial";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("GGUF"u8);
            w.Write(3u);
            w.Write((ulong)tensors.Count);
            w.Write((ulong)_metadata.Count);
            foreach (var (key, type, value) in _metadata)
            {
                WriteString(w, key);
                w.Write((uint)type);
                value(w);
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                WriteString(w, t.Name);
                w.Write((uint)t.Ne.Length);
                foreach (var d in t.Ne) w.Write((ulong)d);
                w.Write((uint)t.Type);
                w.Write((ulong)offset);
                offset = Align(offset + t.ByteLength);
            }
            w.Flush();
            Pad(stream);
            foreach (var t in tensors)
            {
                long before = stream.Position;
                t.WriteData(stream);
                if (stream.Position - before != t.ByteLength)
                    throw new InvalidOperationException($"tensor '{t.Name}' wrote {stream.Position - before} bytes, expected {t.ByteLength}.");
                Pad(stream);
                written?.Invoke(t);
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    private static long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    private static void Pad(Stream stream)
    {
        int pad = (int)(Align(stream.Position) - stream.Position);
        if (pad > 0) stream.Write(new byte[pad]);
    }

    private static void WriteString(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}

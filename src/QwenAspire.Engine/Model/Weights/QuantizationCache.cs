using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace QwenAspire.Engine.Model.Weights;

/// <summary>
/// Quantized weights kept on disk by content, so the next start skips quantizing (int4's search takes tens of
/// seconds on a 1.7B model). The key hashes the storage format's version, the mode, the group size and every
/// weight that is quantized (name, shape, dtype and bytes, after any merged adapter): another checkpoint, dtype,
/// adapter or layout never reads a stale file. Files are written to a temporary name and renamed, so a crash
/// leaves no half file; a file that does not read back whole is ignored (and the weights quantized again).
/// </summary>
public sealed class QuantizationCache(string directory)
{
    /// <summary>Bump when <c>Kernels/QuantFormats</c> or the quantizer change what a packed weight holds.</summary>
    public const int FormatVersion = 3;
    private static readonly byte[] Magic = "QAQC"u8.ToArray();

    public string Directory { get; } = directory;

    /// <summary>Hex SHA-256 over the format, the settings and each (name, weight) in order.</summary>
    public static string Key(IEnumerable<(string Name, Tensor Weight)> weights, WeightQuantization mode, int groupSize)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"qwenaspire-quantized/{FormatVersion}/{mode.Name()}/{groupSize}/mix-q4_k_m\n"));
        foreach (var (name, weight) in weights)
        {
            using var dense = weight.is_contiguous() ? weight.alias() : weight.contiguous();
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}/{dense.dtype}/{string.Join("x", dense.shape)}\n"));
            hash.AppendData(dense.bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public string PathOf(string key) => Path.Combine(Directory, $"{key}.qaq");

    /// <summary>The packed weights saved under <paramref name="key"/>, or null when there is no whole file.</summary>
    internal IReadOnlyDictionary<string, PackedWeight>? TryLoad(string key)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) return null;
        var loaded = new Dictionary<string, PackedWeight>(StringComparer.Ordinal);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            Span<byte> head = stackalloc byte[12];
            file.ReadExactly(head);
            if (!head[..4].SequenceEqual(Magic) || BinaryPrimitives.ReadInt32LittleEndian(head[4..]) != FormatVersion) return null;
            var count = BinaryPrimitives.ReadInt32LittleEndian(head[8..]);
            for (var i = 0; i < count; i++)
            {
                var name = ReadString(file);
                var packed = new PackedWeight(ReadTensor(file), ReadTensor(file), ReadTensor(file), ReadTensor(file));
                loaded[name] = packed;
            }
            return file.Position == file.Length ? loaded : Fail();
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            return Fail();
        }

        IReadOnlyDictionary<string, PackedWeight>? Fail()
        {
            foreach (var p in loaded.Values) Dispose(p);
            return null;
        }
    }

    /// <summary>Writes <paramref name="weights"/> under <paramref name="key"/> (temporary file, then rename).</summary>
    internal void Save(string key, IReadOnlyList<(string Name, PackedWeight Weight)> weights)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(key);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> head = stackalloc byte[12];
                Magic.CopyTo(head);
                BinaryPrimitives.WriteInt32LittleEndian(head[4..], FormatVersion);
                BinaryPrimitives.WriteInt32LittleEndian(head[8..], weights.Count);
                file.Write(head);
                foreach (var (name, w) in weights)
                {
                    WriteString(file, name);
                    foreach (var t in new[] { w.Q, w.Scales, w.Sub, w.RowFactors }) WriteTensor(file, t);
                }
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static void WriteString(Stream s, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteInt64(s, bytes.Length);
        s.Write(bytes);
    }

    private static string ReadString(Stream s)
    {
        var length = ReadInt64(s);
        if (length is < 0 or > 4096) throw new InvalidDataException("bad name length.");
        var bytes = new byte[length];
        s.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    private static void WriteTensor(Stream s, Tensor t)
    {
        using var cpu = t.device_type == TorchSharp.DeviceType.CPU ? t.contiguous() : t.cpu().contiguous();
        WriteInt64(s, (long)cpu.dtype);
        WriteInt64(s, cpu.dim());
        foreach (var d in cpu.shape) WriteInt64(s, d);
        if (cpu.NumberOfElements > 0) s.Write(cpu.bytes);
    }

    private static Tensor ReadTensor(Stream s)
    {
        var dtype = (ScalarType)ReadInt64(s);
        if (dtype is not (ScalarType.Byte or ScalarType.Int8 or ScalarType.Float16 or ScalarType.Float32)) throw new InvalidDataException($"unexpected dtype {dtype}.");
        var dims = ReadInt64(s);
        if (dims is < 1 or > 4) throw new InvalidDataException("bad tensor rank.");
        var shape = new long[dims];
        for (var i = 0; i < dims; i++)
        {
            shape[i] = ReadInt64(s);
            if (shape[i] < 0 || shape[i] > int.MaxValue) throw new InvalidDataException("bad tensor shape.");
        }
        var t = empty(shape, dtype);
        try
        {
            if (t.NumberOfElements > 0)
            {
                if (t.NumberOfElements * t.ElementSize > s.Length - s.Position) throw new InvalidDataException("file ends inside a tensor.");
                s.ReadExactly(t.bytes);
            }
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    private static void WriteInt64(Stream s, long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        s.Write(b);
    }

    private static long ReadInt64(Stream s)
    {
        Span<byte> b = stackalloc byte[8];
        s.ReadExactly(b);
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }

    internal static void Dispose(PackedWeight p)
    {
        p.Q.Dispose();
        p.Scales.Dispose();
        p.Sub.Dispose();
        p.RowFactors.Dispose();
    }
}

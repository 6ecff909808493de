// MSBuild inline task (RoslynCodeTaskFactory, see Directory.Build.targets): marks one symbol-version
// requirement of an ELF64 shared library weak (VER_FLG_WEAK), so the dynamic loader accepts an older
// libstdc++ that lacks it. Idempotent; logs what it did.
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class MarkElfVersionWeak : Task
{
    [Required] public ITaskItem[] Files { get; set; } = new ITaskItem[0];
    [Required] public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        foreach (var file in Files)
        {
            var result = MarkWeak(file.ItemSpec, VersionName);
            Log.LogMessage(MessageImportance.Normal, "MarkElfVersionWeak: " + file.ItemSpec + " " + VersionName + ": " + result);
        }
        return true;
    }

    public static string MarkWeak(string path, string versionName)
    {
        var bytes = System.IO.File.ReadAllBytes(path);
        if (bytes.Length < 64 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[4] != 2 || bytes[5] != 1)
            return "not a little-endian ELF64 file";
        long shoff = (long)System.BitConverter.ToUInt64(bytes, 0x28);
        int shentsize = System.BitConverter.ToUInt16(bytes, 0x3A), shnum = System.BitConverter.ToUInt16(bytes, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (System.BitConverter.ToUInt32(bytes, (int)sh + 4) != 0x6ffffffe) continue; // SHT_GNU_verneed
            long off = (long)System.BitConverter.ToUInt64(bytes, (int)sh + 0x18);
            int link = (int)System.BitConverter.ToUInt32(bytes, (int)sh + 0x28);
            int count = (int)System.BitConverter.ToUInt32(bytes, (int)sh + 0x2C);
            long strOff = (long)System.BitConverter.ToUInt64(bytes, (int)(shoff + (long)link * shentsize) + 0x18);
            long vn = off;
            for (int i = 0; i < count; i++)
            {
                int cnt = System.BitConverter.ToUInt16(bytes, (int)vn + 2);
                long aux = vn + System.BitConverter.ToUInt32(bytes, (int)vn + 8);
                for (int j = 0; j < cnt; j++)
                {
                    long name = strOff + System.BitConverter.ToUInt32(bytes, (int)aux + 8);
                    int end = System.Array.IndexOf(bytes, (byte)0, (int)name);
                    if (System.Text.Encoding.ASCII.GetString(bytes, (int)name, end - (int)name) == versionName)
                    {
                        int flags = System.BitConverter.ToUInt16(bytes, (int)aux + 4);
                        if ((flags & 2) != 0) return "already weak";
                        using (var fs = new System.IO.FileStream(path, System.IO.FileMode.Open, System.IO.FileAccess.Write))
                        {
                            fs.Position = aux + 4;
                            fs.Write(System.BitConverter.GetBytes((ushort)(flags | 2)), 0, 2);
                        }
                        return "marked weak";
                    }
                    aux += System.BitConverter.ToUInt32(bytes, (int)aux + 12);
                }
                vn += System.BitConverter.ToUInt32(bytes, (int)vn + 12);
            }
        }
        return "version not required";
    }
}

using System.Runtime.InteropServices;

namespace QwenAspire.Engine.Model.Kernels.Native;

/// <summary>
/// Machine code copied into a page of its own, made read+execute (never writable and executable at once), and
/// kept for the process's life. x86-64 Linux and Windows only: elsewhere <see cref="TryLoad"/> says no and the
/// callers keep their managed kernels. The kernels take one pointer argument; a two-instruction prologue moves
/// it from the platform's first-argument register (rdi on SysV, rcx on Windows) into rax, where they expect it.
/// </summary>
internal static unsafe partial class ExecutableCode
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 0x02, MapAnonymous = 0x20;
    private const uint MemCommitReserve = 0x3000, PageReadWrite = 0x04, PageExecuteRead = 0x20;

    /// <summary>The code's entry point, or null where this platform or process cannot run emitted code.</summary>
    public static void* TryLoad(ReadOnlySpan<byte> body)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        ReadOnlySpan<byte> prologue = OperatingSystem.IsWindows() ? [0x48, 0x89, 0xc8] : [0x48, 0x89, 0xf8]; // mov rax, rcx | rdi
        var size = (nuint)(prologue.Length + body.Length);
        try
        {
            if (OperatingSystem.IsWindows())
            {
                var page = VirtualAlloc(null, size, MemCommitReserve, PageReadWrite);
                if (page == null) return null;
                Copy(page, prologue, body);
                return VirtualProtect(page, size, PageExecuteRead, out _) ? page : null;
            }
            if (!OperatingSystem.IsLinux()) return null;
            var mapped = mmap(null, size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (mapped == null || mapped == (void*)-1) return null;
            Copy(mapped, prologue, body);
            return mprotect(mapped, size, ProtRead | ProtExec) == 0 ? mapped : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static void Copy(void* page, ReadOnlySpan<byte> prologue, ReadOnlySpan<byte> body)
    {
        var span = new Span<byte>(page, prologue.Length + body.Length);
        prologue.CopyTo(span);
        body.CopyTo(span[prologue.Length..]);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(void* addr, nuint length, int prot);

    [LibraryImport("kernel32", SetLastError = true)]
    private static partial void* VirtualAlloc(void* address, nuint size, uint allocationType, uint protect);

    [LibraryImport("kernel32", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool VirtualProtect(void* address, nuint size, uint newProtect, out uint oldProtect);
}

using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>ssize_t write(int fd, const void *buf, size_t count)</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    public static partial nint write(int fd, void* buf, nuint count);

    /// <summary><c>ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)</c> (64-bit off_t).</summary>
    [LibraryImport(LibraryName, EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint pwrite(int fd, void* buf, nuint count, long offset);
}

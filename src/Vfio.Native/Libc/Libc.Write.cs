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

    /// <summary><c>write</c> from a span: returns the byte count, or -1 with errno set.</summary>
    public static nint write(int fd, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return write(fd, p, (nuint)buffer.Length);
        }
    }

    /// <summary><c>pwrite</c> from a span: returns the byte count, or -1 with errno set.</summary>
    public static nint pwrite(int fd, ReadOnlySpan<byte> buffer, long offset)
    {
        fixed (byte* p = buffer)
        {
            return pwrite(fd, p, (nuint)buffer.Length, offset);
        }
    }
}

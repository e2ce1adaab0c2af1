using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>ssize_t read(int fd, void *buf, size_t count)</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    public static partial nint read(int fd, void* buf, nuint count);

    /// <summary><c>ssize_t pread(int fd, void *buf, size_t count, off_t offset)</c> (64-bit off_t).</summary>
    [LibraryImport(LibraryName, EntryPoint = "pread", SetLastError = true)]
    public static partial nint pread(int fd, void* buf, nuint count, long offset);

    /// <summary><c>read</c> into a span: returns the byte count, or -1 with errno set.</summary>
    public static nint read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return read(fd, p, (nuint)buffer.Length);
        }
    }

    /// <summary><c>pread</c> into a span: returns the byte count, or -1 with errno set.</summary>
    public static nint pread(int fd, Span<byte> buffer, long offset)
    {
        fixed (byte* p = buffer)
        {
            return pread(fd, p, (nuint)buffer.Length, offset);
        }
    }
}

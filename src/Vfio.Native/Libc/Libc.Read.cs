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

    /// <summary><c>read</c> from a descriptor opened non-blocking (an eventfd with <c>EFD_NONBLOCK</c>): returns
    /// the byte count or <c>-errno</c> (<c>-EAGAIN</c> when nothing is there). Such a read never sleeps, so
    /// the call skips the runtime's switch to preemptive GC mode and back
    /// (<see cref="SuppressGCTransitionAttribute"/>) and its last-error bookkeeping. Never use it on a
    /// descriptor that can block: a thread stuck in it would stall every garbage collection.</summary>
    public static nint read_nonblocking_or_errno(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var read = ReadNoTransition(fd, p, (nuint)buffer.Length);
            return read < 0 ? -Marshal.GetLastSystemError() : read;
        }
    }

    [LibraryImport(LibraryName, EntryPoint = "read")]
    [SuppressGCTransition]
    private static partial nint ReadNoTransition(int fd, void* buf, nuint count);

    /// <summary><c>pread</c> into a span: returns the byte count, or -1 with errno set.</summary>
    public static nint pread(int fd, Span<byte> buffer, long offset)
    {
        fixed (byte* p = buffer)
        {
            return pread(fd, p, (nuint)buffer.Length, offset);
        }
    }
}

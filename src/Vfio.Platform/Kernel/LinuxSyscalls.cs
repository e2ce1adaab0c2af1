using System.Runtime.InteropServices;
using Vfio.Native;

namespace Vfio.Platform.Kernel;

/// <summary>The real kernel, through Vfio.Native's libc bindings.</summary>
internal sealed class LinuxSyscalls : ISyscalls
{
    public static readonly LinuxSyscalls Instance = new();

    private LinuxSyscalls()
    {
    }

    public int Open(string path, int flags) => Result(Libc.open(path, flags, 0));

    public int Close(int fd) => Result(Libc.close(fd));

    public int Ioctl(int fd, uint request, nuint argument) => Result(Libc.ioctl(fd, request, argument));

    public int Ioctl(int fd, uint request, Span<byte> argument) => Result(Libc.ioctl(fd, request, argument));

    public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer) =>
        Result(Libc.ioctl(fd, request, argument, addressOffset, buffer));

    public nint Mmap(nuint length, int protection, int flags, int fd, long offset)
    {
        var address = Libc.mmap(0, length, protection, flags, fd, offset);
        return address == -1 ? -Marshal.GetLastPInvokeError() : address;
    }

    public int Munmap(nint address, nuint length) => Result(Libc.munmap(address, length));

    public nint ReserveInaccessible(nint address, nuint length)
    {
        var result = Libc.mmap(address, length, LibcConstants.PROT_NONE,
            LibcConstants.MAP_FIXED | LibcConstants.MAP_PRIVATE | LibcConstants.MAP_ANONYMOUS | LibcConstants.MAP_NORESERVE, -1, 0);
        return result == -1 ? -Marshal.GetLastPInvokeError() : result;
    }

    public int EventFd(uint initialValue, int flags) => Result(Libc.eventfd(initialValue, flags));

    public int MemfdCreate(string name, uint flags) => Result(Libc.memfd_create(name, flags));

    public int Ftruncate(int fd, long length) => Result(Libc.ftruncate(fd, length));

    // The interrupt path (EventFd.Wait, the async waiter): poll, then a read that cannot block.
    public nint ReadNonBlocking(int fd, Span<byte> buffer) => Libc.read_nonblocking_or_errno(fd, buffer);

    public nint Write(int fd, ReadOnlySpan<byte> buffer) => Result(Libc.write(fd, buffer));

    public nint Pread(int fd, Span<byte> buffer, long offset) => Result(Libc.pread(fd, buffer, offset));

    public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset) => Result(Libc.pwrite(fd, buffer, offset));

    public int Poll(Span<pollfd> fds, int timeoutMilliseconds) => Libc.poll_or_errno(fds, timeoutMilliseconds);

    private static int Result(int value) => value < 0 ? -Marshal.GetLastPInvokeError() : value;

    private static nint Result(nint value) => value < 0 ? -Marshal.GetLastPInvokeError() : value;
}

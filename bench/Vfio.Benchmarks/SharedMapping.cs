using Vfio.Native;

namespace Vfio.Benchmarks;

/// <summary>A bare memfd + ftruncate + mmap(MAP_SHARED) mapping, made exactly like the C baseline's and
/// like <c>MmioRegion.CreateShared</c>'s, for the raw-pointer reference loops.</summary>
public sealed unsafe class SharedMapping : IDisposable
{
    private readonly int _fd;

    public SharedMapping(long length)
    {
        Length = length;
        _fd = Libc.memfd_create("vfio-bench-raw", LibcConstants.MFD_CLOEXEC);
        if (_fd < 0 || Libc.ftruncate(_fd, length) != 0)
        {
            throw SystemCallException.FromLastError("memfd_create/ftruncate", "vfio-bench-raw");
        }

        var p = Libc.mmap(null, (nuint)length, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE, LibcConstants.MAP_SHARED, _fd, 0);
        if (p == Libc.MAP_FAILED)
        {
            throw SystemCallException.FromLastError("mmap", "vfio-bench-raw");
        }

        Base = (byte*)p;
    }

    public long Length { get; }

    public byte* Base { get; private set; }

    public void Dispose()
    {
        if (Base != null)
        {
            _ = Libc.munmap(Base, (nuint)Length);
            Base = null;
            _ = Libc.close(_fd);
        }
    }
}

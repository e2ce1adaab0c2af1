using Vfio.Native;
using Vfio.Platform.Kernel;
using Vfio.Platform.Mmio;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>What MmioRegion promises about Dispose: idempotent and safe against another Dispose, and
/// the pread/pwrite path never reaches a descriptor closed under it. (Dispose racing an access is
/// documented as the caller's to avoid; nothing here does that.)</summary>
public sealed class MmioDisposeTests
{
    [Fact]
    public void Disposing_from_several_threads_at_once_unmaps_once()
    {
        for (var round = 0; round < 100; round++)
        {
            var sys = new CountingSyscalls();
            var region = MmioRegion.CreateShared(sys, 0x1000, mapped: true);
            region.Write32(0, 1);

            Parallel.Invoke(region.Dispose, region.Dispose, region.Dispose, region.Dispose);
            region.Dispose();

            Assert.Equal(1, sys.Munmaps);
            Assert.Equal(1, sys.Closes); // the memfd, once
            Assert.Throws<ObjectDisposedException>(() => region.Read32(0));
        }
    }

    [Fact]
    public void A_file_backed_access_after_the_device_descriptor_is_closed_throws_and_reaches_no_file()
    {
        var sys = new CountingSyscalls();
        var memfd = Libc.memfd_create("vfio-net-test", LibcConstants.MFD_CLOEXEC);
        Assert.True(memfd >= 0);
        Assert.Equal(0, Libc.ftruncate(memfd, 0x1000));
        var info = new VfioRegionInfo(0, VfioUapi.VFIO_REGION_INFO_FLAG_READ | VfioUapi.VFIO_REGION_INFO_FLAG_WRITE, 0x1000, 0, null, null, []);
        var device = new KernelFd(sys, memfd);
        using var region = MmioRegion.Create(sys, device, info, "fake region");
        region.Write32(0x10, 0xFEED);
        Assert.Equal(0xFEEDu, region.Read32(0x10));
        var accesses = sys.FileAccesses;

        device.Dispose(); // as the device's Dispose does, after its regions

        Assert.Throws<ObjectDisposedException>(() => region.Read32(0x10));
        Assert.Throws<ObjectDisposedException>(() => region.Write32(0x10, 1));
        Assert.Equal(accesses, sys.FileAccesses);
    }

    /// <summary>The real calls, counted.</summary>
    private sealed class CountingSyscalls : ISyscalls
    {
        private readonly LinuxSyscalls _real = LinuxSyscalls.Instance;
        private int _munmaps, _closes, _fileAccesses;

        public int Munmaps => Volatile.Read(ref _munmaps);

        public int Closes => Volatile.Read(ref _closes);

        public int FileAccesses => Volatile.Read(ref _fileAccesses);

        public int Open(string path, int flags) => throw new NotSupportedException();

        public int Close(int fd)
        {
            Interlocked.Increment(ref _closes);
            return _real.Close(fd);
        }

        public int Ioctl(int fd, uint request, nuint argument) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, Span<byte> argument) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer) => throw new NotSupportedException();

        public nint Mmap(nuint length, int protection, int flags, int fd, long offset) => _real.Mmap(length, protection, flags, fd, offset);

        public int Munmap(nint address, nuint length)
        {
            Interlocked.Increment(ref _munmaps);
            return _real.Munmap(address, length);
        }

        public int EventFd(uint initialValue, int flags) => throw new NotSupportedException();

        public int MemfdCreate(string name, uint flags) => _real.MemfdCreate(name, flags);

        public int Ftruncate(int fd, long length) => _real.Ftruncate(fd, length);

        public nint ReadNonBlocking(int fd, Span<byte> buffer) => throw new NotSupportedException();

        public nint Write(int fd, ReadOnlySpan<byte> buffer) => throw new NotSupportedException();

        public nint Pread(int fd, Span<byte> buffer, long offset)
        {
            Interlocked.Increment(ref _fileAccesses);
            return _real.Pread(fd, buffer, offset);
        }

        public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset)
        {
            Interlocked.Increment(ref _fileAccesses);
            return _real.Pwrite(fd, buffer, offset);
        }

        public int Poll(Span<pollfd> fds, int timeoutMilliseconds) => throw new NotSupportedException();
    }
}

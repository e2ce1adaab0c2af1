using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>An unmap the kernel refuses leaves the mapping as it was: the kernel still maps the buffer,
/// so its IOVA must not be handed out again nor its memory freed; a later Dispose retries.</summary>
public sealed class DmaUnmapFailureTests
{
    private const int Page = 0x1000;

    [Fact]
    public void A_refused_type1_unmap_keeps_the_IOVA_reserved_and_the_buffer_and_a_retry_releases_both()
    {
        var kernel = new FakeKernel();
        var unmapResults = new Queue<int>([-Errno.EBUSY, 0]);
        var unmapped = new List<ulong>();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_GET_INFO, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, argument =>
        {
            unmapped.Add(Structs.Read<vfio_iommu_type1_dma_unmap>(argument, 0).iova);
            return unmapResults.Count > 0 ? unmapResults.Dequeue() : 0;
        });
        using var container = kernel.OpenContainer();
        using var group = container.OpenGroup("/dev/vfio/7");
        var first = DmaBuffer.Allocate(Page);
        var mapping = container.MapDma(first);
        Assert.Equal(0x1000UL, mapping.Iova);

        var error = Assert.Throws<VfioException>(mapping.Dispose);

        Assert.Equal("VFIO_IOMMU_UNMAP_DMA", error.Operation);
        Assert.Equal("EBUSY", error.ErrnoName);
        Assert.Contains("/dev/vfio/vfio", error.Target!, StringComparison.Ordinal);
        Assert.Contains("IOVA 0x1000", error.Target!, StringComparison.Ordinal);
        Assert.Contains("dispose it again to retry", error.Message, StringComparison.Ordinal);

        // The kernel still maps IOVA 0x1000: the next mapping must land elsewhere.
        using var second = DmaBuffer.Allocate(Page);
        using (var other = container.MapDma(second))
        {
            Assert.NotEqual(mapping.Iova, other.Iova);
        }

        // Disposing the buffer now neither throws nor frees memory the device can still reach.
        first.Dispose();
        Assert.True(first.IsAllocated);
        Assert.Throws<ObjectDisposedException>(() => first.Address);

        mapping.Dispose(); // the retry, accepted this time

        Assert.False(first.IsAllocated); // the deferred free happened with the unmap
        Assert.Equal([0x1000UL, 0x2000UL, 0x1000UL], unmapped);
        using var third = DmaBuffer.Allocate(Page);
        using var reused = container.MapDma(third);
        Assert.Equal(0x1000UL, reused.Iova); // given back only now
        mapping.Dispose(); // done: no third unmap
        Assert.Equal(3, unmapped.Count);
    }

    [Fact]
    public void A_mapping_whose_unmap_failed_is_still_listed_and_closing_the_container_retries_it()
    {
        var kernel = new FakeKernel();
        var unmapResults = new Queue<int>([-Errno.EINVAL, -Errno.EINVAL]);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_GET_INFO, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, _ => unmapResults.Count > 0 ? unmapResults.Dequeue() : 0);
        var container = kernel.OpenContainer();
        container.OpenGroup("/dev/vfio/7");
        using var buffer = DmaBuffer.Allocate(Page);
        var mapping = container.MapDma(buffer);
        Assert.Throws<VfioException>(mapping.Dispose);

        container.Dispose(); // retries (refused once more: the container's close drops the mapping in the kernel)

        Assert.Equal(2, kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA));
        Assert.Equal(0, kernel.OpenDescriptors);

        mapping.Dispose(); // after the close: nothing left to ask the kernel, the bookkeeping goes
        Assert.Equal(2, kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA));
        buffer.Dispose();
        Assert.False(buffer.IsAllocated);
    }

    [Fact]
    public void A_mapping_the_kernel_never_unmaps_is_dropped_with_the_container_and_its_memory_freed()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_GET_INFO, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, -Errno.EINVAL);
        var container = kernel.OpenContainer();
        container.OpenGroup("/dev/vfio/7");
        var buffer = DmaBuffer.Allocate(Page);
        var mapping = container.MapDma(buffer);
        buffer.Dispose(); // deferred: still mapped
        Assert.True(buffer.IsAllocated);

        container.Dispose(); // every unmap refused, then the container closed: the kernel dropped the mapping

        Assert.False(buffer.IsAllocated);
        mapping.Dispose(); // already dropped: nothing to do, nothing thrown
    }

    [Fact]
    public void A_refused_IOAS_unmap_keeps_the_mapping_and_a_retry_unmaps_it()
    {
        const int IommuFd = FakeIommufd.Fd;
        const uint IoasId = 5;
        var sys = FakeIommufd.Syscalls(IoasId);
        var unmapResults = new Queue<int>([-Errno.EBUSY, 0]);
        var unmapped = new List<ulong>();
        sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_UNMAP, argument =>
        {
            unmapped.Add(Structs.Read<iommu_ioas_unmap>(argument, 0).iova);
            return unmapResults.Count > 0 ? unmapResults.Dequeue() : 0;
        });
        using var iommufd = Iommufd.IommufdContext.Open(sys, new IommufdOptions());
        var space = iommufd.CreateAddressSpace();
        var buffer = DmaBuffer.Allocate(Page);
        var mapping = space.MapDma(buffer, iova: 0x40000);

        var error = Assert.Throws<VfioException>(mapping.Dispose);

        Assert.Equal("IOMMU_IOAS_UNMAP", error.Operation);
        Assert.Equal("EBUSY", error.ErrnoName);
        Assert.Contains($"IOAS {IoasId}", error.Target!, StringComparison.Ordinal);
        Assert.Contains("IOVA 0x40000", error.Target!, StringComparison.Ordinal);
        buffer.Dispose();
        Assert.True(buffer.IsAllocated);

        space.Dispose(); // still listed: the address space's Dispose retries, and the kernel accepts

        Assert.Equal([0x40000UL, 0x40000UL], unmapped);
        Assert.False(buffer.IsAllocated);
        mapping.Dispose();
        Assert.Equal(2, unmapped.Count);
    }

    [Fact]
    public void Disposing_a_mapped_buffer_never_throws_and_frees_it_with_the_last_mapping()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_GET_INFO, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, 0);
        using var container = kernel.OpenContainer();
        using var group = container.OpenGroup("/dev/vfio/7");
        var buffer = DmaBuffer.Allocate(Page);
        var a = container.MapDma(buffer);
        var b = container.MapDma(buffer);

        buffer.Dispose();
        buffer.Dispose();

        Assert.True(buffer.IsAllocated);
        Assert.Throws<ObjectDisposedException>(() => container.MapDma(buffer)); // no new mapping of a disposed buffer
        a.Dispose();
        Assert.True(buffer.IsAllocated);
        b.Dispose();
        Assert.False(buffer.IsAllocated);
    }

    [Fact]
    public void A_buffer_disposed_from_several_threads_while_its_mappings_go_is_freed_exactly_once()
    {
        for (var round = 0; round < 200; round++)
        {
            var sys = new MunmapCounter();
            var buffer = DmaBuffer.Allocate(sys, Page, hugePages: false);
            buffer.AddMapping();
            buffer.AddMapping();
            Parallel.Invoke(buffer.Dispose, buffer.RemoveMapping, buffer.Dispose, buffer.RemoveMapping);

            Assert.False(buffer.IsAllocated);
            Assert.Equal(1, sys.Munmaps);
        }
    }

    /// <summary>Real mmap and munmap, counted.</summary>
    private sealed class MunmapCounter : ISyscalls
    {
        private int _munmaps;

        public int Munmaps => Volatile.Read(ref _munmaps);

        public nint Mmap(nuint length, int protection, int flags, int fd, long offset) =>
            LinuxSyscalls.Instance.Mmap(length, protection, flags, fd, offset);

        public int Munmap(nint address, nuint length)
        {
            Interlocked.Increment(ref _munmaps);
            return LinuxSyscalls.Instance.Munmap(address, length);
        }

        public int Open(string path, int flags) => throw new NotSupportedException();

        public int Close(int fd) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, nuint argument) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, Span<byte> argument) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer) => throw new NotSupportedException();

        public int EventFd(uint initialValue, int flags) => throw new NotSupportedException();

        public nint ReadNonBlocking(int fd, Span<byte> buffer) => throw new NotSupportedException();

        public nint Write(int fd, ReadOnlySpan<byte> buffer) => throw new NotSupportedException();

        public nint Pread(int fd, Span<byte> buffer, long offset) => throw new NotSupportedException();

        public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset) => throw new NotSupportedException();

        public int Poll(Span<pollfd> fds, int timeoutMilliseconds) => throw new NotSupportedException();
    }
}

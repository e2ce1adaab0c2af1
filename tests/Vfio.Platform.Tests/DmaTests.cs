using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

public sealed class IovaAllocatorTests
{
    [Fact]
    public void Allocations_are_aligned_first_fit_and_skip_page_zero()
    {
        var iova = new IovaAllocator([(0, 0xFEDF_FFFF), (0xFEF0_0000, 0xFFFF_FFFF)]);

        Assert.Equal(0x1000UL, iova.Allocate(0x1000, 0x1000));
        Assert.Equal(0x10000UL, iova.Allocate(0x10000, 0x10000));
        Assert.Equal(0x2000UL, iova.Allocate(0x2000, 0x1000));
    }

    [Fact]
    public void Freed_ranges_merge_and_are_reused()
    {
        var iova = new IovaAllocator([(0x1000, 0x4FFF)]);
        var a = iova.Allocate(0x1000, 0x1000);
        var b = iova.Allocate(0x1000, 0x1000);
        var c = iova.Allocate(0x2000, 0x1000);
        Assert.Throws<InvalidOperationException>(() => iova.Allocate(0x1000, 0x1000));

        iova.Free(b, 0x1000);
        iova.Free(a, 0x1000);
        iova.Free(c, 0x2000);

        Assert.Equal([(0x1000UL, 0x4FFFUL)], iova.FreeRanges);
        Assert.Equal(0x1000UL, iova.Allocate(0x4000, 0x1000));
    }

    [Fact]
    public void A_double_free_is_an_error()
    {
        var iova = new IovaAllocator([(0x1000, 0xFFFF)]);
        var a = iova.Allocate(0x1000, 0x1000);
        iova.Free(a, 0x1000);

        Assert.Throws<InvalidOperationException>(() => iova.Free(a, 0x1000));
    }

    [Fact]
    public void A_range_that_does_not_fit_the_IOMMU_is_refused()
    {
        var iova = new IovaAllocator([(0x1000, 0x1FFF)]);

        Assert.Throws<InvalidOperationException>(() => iova.Allocate(0x2000, 0x1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => iova.Allocate(0x1000, 3));
    }
}

public sealed class DmaTests
{
    [Fact]
    public void A_DMA_buffer_is_page_aligned_zeroed_and_writable()
    {
        using var buffer = DmaBuffer.Allocate(5000);

        Assert.Equal(2 * Environment.SystemPageSize, buffer.Length);
        Assert.Equal(0, buffer.Address % Environment.SystemPageSize);
        Assert.True(buffer.Span.IndexOfAnyExcept((byte)0) < 0);
        buffer.Span[4999] = 0x5A;
        Assert.Equal(0x5A, buffer.Span[4999]);
    }

    [Fact]
    public void Mapping_asks_the_kernel_for_the_buffer_at_an_allocated_IOVA_and_unmapping_frees_it()
    {
        var kernel = new FakeKernel();
        var maps = new List<vfio_iommu_type1_dma_map>();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_GET_INFO, argument =>
        {
            var info = new vfio_iommu_type1_info { argsz = 24, flags = VfioUapi.VFIO_IOMMU_INFO_PGSIZES, iova_pgsizes = 0x40201000 };
            Structs.Bytes(ref info).CopyTo(argument);
            return 0;
        });
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA, argument =>
        {
            maps.Add(Structs.Read<vfio_iommu_type1_dma_map>(argument, 0));
            return 0;
        });
        using var container = kernel.OpenContainer();
        using var group = container.OpenGroup("/dev/vfio/7");
        using var buffer = DmaBuffer.Allocate(0x3000);

        var first = container.MapDma(buffer);
        first.Dispose();
        var second = container.MapDma(buffer, deviceWrites: false);

        Assert.Equal(0x1000UL, first.Iova);
        Assert.Equal(first.Iova, second.Iova); // freed and reused
        Assert.Equal((ulong)buffer.Address, maps[0].vaddr);
        Assert.Equal(0x3000UL, maps[0].size);
        Assert.Equal((uint)(VfioUapi.VFIO_DMA_MAP_FLAG_READ | VfioUapi.VFIO_DMA_MAP_FLAG_WRITE), maps[0].flags);
        Assert.Equal((uint)VfioUapi.VFIO_DMA_MAP_FLAG_READ, maps[1].flags);
        Assert.Equal(1, kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA));
        second.Dispose();
    }

    [Fact]
    public void DMA_in_no_IOMMU_mode_says_it_is_unavailable()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnOpen("/dev/vfio/noiommu-0", FakeKernel.GroupFd);
        using var container = kernel.OpenContainer(allowNoIommu: true);
        using var group = container.OpenGroup("/dev/vfio/noiommu-0");
        using var buffer = DmaBuffer.Allocate(4096);

        var error = Assert.Throws<VfioException>(() => container.MapDma(buffer));

        Assert.Equal("EPERM", error.ErrnoName);
        Assert.Contains("unavailable in no-IOMMU mode", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA));
    }

    [Fact]
    public void A_refused_mapping_gives_its_IOVA_back()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_GET_INFO, 0);
        var mapResults = new Queue<int>([-Errno.ENOMEM, 0]);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA, _ => mapResults.Count > 1 ? mapResults.Dequeue() : mapResults.Peek());
        using var container = kernel.OpenContainer();
        using var group = container.OpenGroup("/dev/vfio/7");
        using var buffer = DmaBuffer.Allocate(4096);

        var error = Assert.Throws<VfioException>(() => container.MapDma(buffer));
        using var mapping = container.MapDma(buffer);

        Assert.Contains("ulimit -l", error.Message, StringComparison.Ordinal);
        Assert.Equal(0x1000UL, mapping.Iova);
    }
}

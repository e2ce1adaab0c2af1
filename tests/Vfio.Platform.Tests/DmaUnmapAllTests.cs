using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>Unmap-all (the selftests' unmap_all): one kernel call for a whole container or address space, and
/// the library's mappings, IOVAs and buffers following what the kernel said.</summary>
public sealed class DmaUnmapAllTests
{
    private const int Page = 0x1000, IommuFd = 200;

    [Fact]
    public void A_type1_container_unmaps_all_with_one_FLAG_ALL_call_and_every_mapping_is_gone()
    {
        var kernel = TypeOneKernel();
        var calls = new List<vfio_iommu_type1_dma_unmap>();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, argument =>
        {
            var unmap = Structs.Read<vfio_iommu_type1_dma_unmap>(argument, 0);
            calls.Add(unmap);
            unmap.size = 3 * Page; // what the kernel had mapped
            Structs.Bytes(ref unmap).CopyTo(argument);
            return 0;
        });
        using var container = kernel.OpenContainer();
        container.OpenGroup("/dev/vfio/7");
        var first = DmaBuffer.Allocate(Page);
        var second = DmaBuffer.Allocate(2 * Page);
        var a = container.MapDma(first);
        var b = container.MapDma(second, iova: 0x100000);

        var unmapped = container.UnmapAllDma();

        Assert.Equal(3UL * Page, unmapped);
        var only = Assert.Single(calls);
        Assert.Equal((uint)VfioUapi.VFIO_DMA_UNMAP_FLAG_ALL, only.flags);
        Assert.Equal((0UL, 0UL), (only.iova, only.size)); // the flag wants both 0
        Assert.True(a.IsUnmapped && b.IsUnmapped);
        a.Dispose();
        b.Dispose();
        Assert.Single(calls); // nothing more to unmap
        first.Dispose();
        second.Dispose();
        Assert.False(first.IsAllocated || second.IsAllocated);
        // The allocator has the IOVA back: the next mapping it places lands where the first was.
        using var again = DmaBuffer.Allocate(Page);
        using var next = container.MapDma(again);
        Assert.Equal(a.Iova, next.Iova);
    }

    [Fact]
    public void Without_the_VFIO_UNMAP_ALL_extension_each_mapping_is_unmapped_on_its_own()
    {
        var kernel = TypeOneKernel();
        kernel.Sys.OnIoctlValue(FakeKernel.ContainerFd, VfioUapi.VFIO_CHECK_EXTENSION, (nuint)VfioUapi.VFIO_UNMAP_ALL, 0);
        var flags = new List<uint>();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, argument =>
        {
            var unmap = Structs.Read<vfio_iommu_type1_dma_unmap>(argument, 0);
            flags.Add(unmap.flags);
            return 0; // the size written back is the one asked
        });
        using var container = kernel.OpenContainer();
        container.OpenGroup("/dev/vfio/7");
        using var first = DmaBuffer.Allocate(Page);
        using var second = DmaBuffer.Allocate(2 * Page);
        var a = container.MapDma(first);
        var b = container.MapDma(second);

        Assert.Equal(3UL * Page, container.UnmapAllDma());

        Assert.Equal([0u, 0u], flags);
        Assert.True(a.IsUnmapped && b.IsUnmapped);
    }

    [Fact]
    public void A_refused_unmap_all_keeps_every_mapping_and_buffer()
    {
        var kernel = TypeOneKernel();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, -Errno.EINVAL);
        var container = kernel.OpenContainer();
        container.OpenGroup("/dev/vfio/7");
        var buffer = DmaBuffer.Allocate(Page);
        var mapping = container.MapDma(buffer);

        var error = Assert.Throws<VfioException>(() => container.UnmapAllDma());

        Assert.Equal("VFIO_IOMMU_UNMAP_DMA(FLAG_ALL)", error.Operation);
        Assert.Equal("EINVAL", error.ErrnoName);
        Assert.False(mapping.IsUnmapped);
        buffer.Dispose();
        Assert.True(buffer.IsAllocated); // the device may still reach it
        container.Dispose(); // closing the container drops the mapping
        Assert.False(buffer.IsAllocated);
    }

    [Fact]
    public void A_no_IOMMU_container_has_nothing_to_unmap_all()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnOpen("/dev/vfio/noiommu-0", FakeKernel.GroupFd);
        using var container = kernel.OpenContainer(allowNoIommu: true);
        container.OpenGroup("/dev/vfio/noiommu-0");

        var error = Assert.Throws<VfioException>(() => container.UnmapAllDma());

        Assert.Equal("EPERM", error.ErrnoName);
        Assert.Equal(0, kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA));
    }

    [Fact]
    public void An_IOAS_unmaps_all_with_IOVA_0_and_length_UINT64_MAX()
    {
        var sys = IommufdSys();
        var calls = new List<iommu_ioas_unmap>();
        sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_UNMAP, argument =>
        {
            var unmap = Structs.Read<iommu_ioas_unmap>(argument, 0);
            calls.Add(unmap);
            unmap.length = 2 * Page;
            Structs.Bytes(ref unmap).CopyTo(argument);
            return 0;
        });
        using var iommufd = Iommufd.IommufdContext.Open(sys, new IommufdOptions());
        using var space = iommufd.CreateAddressSpace();
        var first = DmaBuffer.Allocate(Page);
        var second = DmaBuffer.Allocate(Page);
        var a = space.MapDma(first, iova: 0x40000);
        var b = space.MapDma(second, iova: 0x80000);

        Assert.Equal(2UL * Page, space.UnmapAllDma());

        var only = Assert.Single(calls);
        Assert.Equal((3u, 0UL, ulong.MaxValue), (only.ioas_id, only.iova, only.length));
        Assert.True(a.IsUnmapped && b.IsUnmapped);
        first.Dispose();
        second.Dispose();
        Assert.False(first.IsAllocated || second.IsAllocated);
        b.Dispose();
        Assert.Single(calls);
    }

    [Fact]
    public void A_refused_IOAS_unmap_all_keeps_the_mappings()
    {
        var sys = IommufdSys();
        sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_UNMAP, -Errno.EBUSY);
        using var iommufd = Iommufd.IommufdContext.Open(sys, new IommufdOptions());
        var space = iommufd.CreateAddressSpace();
        var buffer = DmaBuffer.Allocate(Page);
        var mapping = space.MapDma(buffer, iova: 0x40000);

        var error = Assert.Throws<VfioException>(() => space.UnmapAllDma());

        Assert.Equal("IOMMU_IOAS_UNMAP(all)", error.Operation);
        Assert.Equal("EBUSY", error.ErrnoName);
        Assert.False(mapping.IsUnmapped);
        buffer.Dispose();
        Assert.True(buffer.IsAllocated);
        space.Dispose();
        Assert.False(buffer.IsAllocated);
    }

    private static FakeKernel TypeOneKernel()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_GET_INFO, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA, 0);
        return kernel;
    }

    private static FakeSyscalls IommufdSys() => FakeIommufd.Syscalls();
}

using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>What the conformance cases (tests/Vfio.Guest.Checks/Conformance) needed from the library: a
/// container on the type1 (v1) back-end the selftests also run, and an unmap that trusts the kernel's
/// written-back length rather than its return code alone.</summary>
public sealed class ConformanceFixTests
{
    private const int Page = 0x1000;

    [Fact]
    public void A_container_asked_for_type1_sets_type1_even_where_type1v2_exists()
    {
        var kernel = new FakeKernel();
        using var container = VfioContainer.Open(kernel.Sys, new VfioContainerOptions { IommuType = VfioIommuType.Type1 });

        container.OpenGroup("/dev/vfio/7");

        Assert.Equal(VfioIommuType.Type1, container.IommuType);
        Assert.Equal(1, kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_SET_IOMMU, (nuint)VfioUapi.VFIO_TYPE1_IOMMU));
        Assert.Equal(0, kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_SET_IOMMU, (nuint)VfioUapi.VFIO_TYPE1v2_IOMMU));
    }

    [Fact]
    public void A_back_end_the_kernel_lacks_fails_with_ENODEV_and_leaves_no_descriptor()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctlValue(FakeKernel.ContainerFd, VfioUapi.VFIO_CHECK_EXTENSION, (nuint)VfioUapi.VFIO_TYPE1v2_IOMMU, 0);
        var container = VfioContainer.Open(kernel.Sys, new VfioContainerOptions { IommuType = VfioIommuType.Type1v2 });

        var error = Assert.Throws<VfioException>(() => container.OpenGroup("/dev/vfio/7"));

        Assert.Equal("ENODEV", error.ErrnoName);
        Assert.Contains("Type1v2", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_SET_IOMMU));
        container.Dispose();
        Assert.Equal(0, kernel.OpenDescriptors);
    }

    [Fact]
    public void NoIommu_is_not_a_back_end_to_ask_for_on_an_IOMMU_group()
    {
        var kernel = new FakeKernel();
        using var container = VfioContainer.Open(kernel.Sys, new VfioContainerOptions { IommuType = VfioIommuType.NoIommu });

        var error = Assert.Throws<VfioException>(() => container.OpenGroup("/dev/vfio/7"));

        Assert.Equal("EINVAL", error.ErrnoName);
    }

    [Fact]
    public void A_type1_unmap_that_unmapped_less_than_the_mapping_keeps_the_buffer()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_GET_INFO, 0);
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_MAP_DMA, 0);
        var written = new Queue<ulong>([Page, 2 * Page]); // first only half, then all of it
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, argument =>
        {
            var unmap = Structs.Read<vfio_iommu_type1_dma_unmap>(argument, 0);
            unmap.size = written.Dequeue();
            Structs.Bytes(ref unmap).CopyTo(argument);
            return 0;
        });
        using var container = kernel.OpenContainer();
        container.OpenGroup("/dev/vfio/7");
        var buffer = DmaBuffer.Allocate(2 * Page);
        var mapping = container.MapDma(buffer);

        var error = Assert.Throws<VfioException>(mapping.Dispose);

        Assert.Equal("EIO", error.ErrnoName);
        Assert.Contains("unmapped 0x1000 of 0x2000 bytes", error.Message, StringComparison.Ordinal);
        buffer.Dispose();
        Assert.True(buffer.IsAllocated); // the device may still reach the second page

        mapping.Dispose(); // the kernel reports the whole length now

        Assert.False(buffer.IsAllocated);
    }

    [Fact]
    public void An_IOAS_unmap_that_unmapped_nothing_keeps_the_buffer_until_the_address_space_goes()
    {
        const int IommuFd = FakeIommufd.Fd;
        var sys = FakeIommufd.Syscalls();
        sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_UNMAP, argument =>
        {
            var unmap = Structs.Read<iommu_ioas_unmap>(argument, 0);
            unmap.length = 0;
            Structs.Bytes(ref unmap).CopyTo(argument);
            return 0;
        });
        using var iommufd = Iommufd.IommufdContext.Open(sys, new IommufdOptions());
        var space = iommufd.CreateAddressSpace();
        var buffer = DmaBuffer.Allocate(Page);
        var mapping = space.MapDma(buffer, iova: 0x40000);

        var error = Assert.Throws<VfioException>(mapping.Dispose);

        Assert.Equal("IOMMU_IOAS_UNMAP", error.Operation);
        Assert.Contains("unmapped 0x0 of 0x1000 bytes", error.Message, StringComparison.Ordinal);
        buffer.Dispose();
        Assert.True(buffer.IsAllocated);

        space.Dispose(); // destroying the IOAS drops the mapping whatever the unmaps said

        Assert.False(buffer.IsAllocated);
    }
}

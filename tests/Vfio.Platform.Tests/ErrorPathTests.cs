using Vfio.Native;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>Failures a real kernel will not produce on demand, through a fake of the syscall
/// seam. Each asserts the typed error (operation, device, errno, advice) and that nothing leaked.</summary>
public sealed class ErrorPathTests
{
    [Fact]
    public void The_happy_path_opens_container_group_and_device_and_closes_them_in_kernel_order()
    {
        var kernel = new FakeKernel();
        var container = kernel.OpenContainer();
        var group = container.OpenGroup("/dev/vfio/7");
        var device = group.OpenDevice("ff170000.mmc");

        Assert.True(device.IsPlatform);
        Assert.Equal(VfioIommuType.Type1v2, container.IommuType);
        Assert.Equal(3, kernel.OpenDescriptors);

        container.Dispose();

        Assert.Equal(0, kernel.OpenDescriptors);
        Assert.Equal(
            [("close", FakeKernel.DeviceFd, 0u), ("ioctl", FakeKernel.GroupFd, VfioUapi.VFIO_GROUP_UNSET_CONTAINER), ("close", FakeKernel.GroupFd, 0u), ("close", FakeKernel.ContainerFd, 0u)],
            kernel.Sys.Calls.Where(c => c.Name == "close" || c.Request == VfioUapi.VFIO_GROUP_UNSET_CONTAINER).Select(c => (c.Name, c.Fd, c.Request)));
    }

    [Fact]
    public void No_VFIO_in_the_kernel_says_to_load_it()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnOpen("/dev/vfio/vfio", -Errno.ENOENT);

        var error = Assert.Throws<VfioException>(() => kernel.OpenContainer());

        Assert.Equal("open", error.Operation);
        Assert.Equal("/dev/vfio/vfio", error.Target);
        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Contains("modprobe vfio", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kernel.OpenDescriptors);
    }

    [Fact]
    public void An_unknown_API_version_closes_the_container()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.ContainerFd, VfioUapi.VFIO_GET_API_VERSION, 1);

        var error = Assert.Throws<VfioException>(() => kernel.OpenContainer());

        Assert.Equal("EPROTO", error.ErrnoName);
        Assert.Equal(0, kernel.OpenDescriptors);
    }

    [Theory]
    [InlineData(Errno.EACCES, "Permission denied")]
    [InlineData(Errno.EBUSY, "already open")]
    [InlineData(Errno.ENOENT, "bound to vfio-platform or vfio-pci")]
    public void A_group_that_cannot_be_opened_names_the_reason(int errno, string advice)
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnOpen("/dev/vfio/7", -errno);
        using var container = kernel.OpenContainer();

        var error = Assert.Throws<VfioException>(() => container.OpenGroup("/dev/vfio/7"));

        Assert.Equal("/dev/vfio/7", error.Target);
        Assert.Equal(errno, error.Errno);
        Assert.Contains(advice, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, kernel.OpenDescriptors);
    }

    [Fact]
    public void A_group_that_is_not_viable_is_closed_and_explained()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.GroupFd, VfioUapi.VFIO_GROUP_GET_STATUS, 0); // flags stay 0
        using var container = kernel.OpenContainer();

        var error = Assert.Throws<VfioException>(() => container.OpenGroup("/dev/vfio/7"));

        Assert.Contains("not viable", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, kernel.OpenDescriptors);
    }

    [Fact]
    public void A_no_IOMMU_group_needs_an_explicit_opt_in()
    {
        var kernel = new FakeKernel();
        using var container = kernel.OpenContainer(allowNoIommu: false);

        var error = Assert.Throws<VfioException>(() => container.OpenGroup("/dev/vfio/noiommu-0"));

        Assert.Equal("EPERM", error.ErrnoName);
        Assert.Contains("AllowNoIommu", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kernel.Sys.OpenCount("/dev/vfio/noiommu-0"));
    }

    [Fact]
    public void A_no_IOMMU_group_uses_the_no_IOMMU_back_end_even_where_type1_is_offered()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnOpen("/dev/vfio/noiommu-0", FakeKernel.GroupFd);
        using var container = kernel.OpenContainer(allowNoIommu: true);

        using var group = container.OpenGroup("/dev/vfio/noiommu-0");

        Assert.Equal(VfioIommuType.NoIommu, container.IommuType);
        Assert.True(kernel.Sys.IoctlCount(FakeKernel.ContainerFd, VfioUapi.VFIO_SET_IOMMU, (nuint)VfioUapi.VFIO_NOIOMMU_IOMMU) > 0);
    }

    [Theory]
    [InlineData(Errno.EBUSY, "already open")]
    [InlineData(Errno.ENODEV, "has no device named")]
    public void A_device_that_cannot_be_opened_names_the_reason(int errno, string advice)
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.GroupFd, VfioUapi.VFIO_GROUP_GET_DEVICE_FD, -errno);
        using var container = kernel.OpenContainer();
        using var group = container.OpenGroup("/dev/vfio/7");

        var error = Assert.Throws<VfioException>(() => group.OpenDevice("ff170000.mmc"));

        Assert.Equal("VFIO_GROUP_GET_DEVICE_FD", error.Operation);
        Assert.Equal("ff170000.mmc", error.Target);
        Assert.Contains(advice, error.Message, StringComparison.Ordinal);
        Assert.Equal(2, kernel.OpenDescriptors);
    }

    [Fact]
    public void A_failing_device_info_closes_the_device_fd()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_GET_INFO, -Errno.EIO);
        using var container = kernel.OpenContainer();
        using var group = container.OpenGroup("/dev/vfio/7");

        Assert.Throws<VfioException>(() => group.OpenDevice("ff170000.mmc"));

        Assert.Equal(2, kernel.OpenDescriptors);
    }

    [Fact]
    public void Region_and_IRQ_indexes_out_of_range_are_refused_before_the_kernel_is_asked()
    {
        var kernel = new FakeKernel();
        using var container = kernel.OpenContainer();
        using var group = container.OpenGroup("/dev/vfio/7");
        using var device = group.OpenDevice("ff170000.mmc");

        var region = Assert.Throws<ArgumentOutOfRangeException>(() => device.GetRegionInfo(1));
        var irq = Assert.Throws<ArgumentOutOfRangeException>(() => device.EnableInterrupt(3));
        var vector = Assert.Throws<ArgumentOutOfRangeException>(() => device.EnableInterrupt(0, subindex: 1));

        // The caller's mistake: argument exceptions naming the device, the call and the argument, no errno.
        Assert.Contains("ff170000.mmc: GetRegionInfo: region index 1 is out of range: the device has 1 region(s)", region.Message, StringComparison.Ordinal);
        Assert.Equal(("index", 1), (region.ParamName, region.ActualValue));
        Assert.Contains("ff170000.mmc: GetIrqInfo: IRQ index 3 is out of range", irq.Message, StringComparison.Ordinal);
        Assert.Equal(("index", 3), (irq.ParamName, irq.ActualValue));
        Assert.Contains("EnableInterrupt: IRQ index 0 has 1 vector(s); 1 is out of range", vector.Message, StringComparison.Ordinal);
        Assert.Equal("subindex", vector.ParamName);
        Assert.Equal(0, kernel.Sys.IoctlCount(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_GET_REGION_INFO));
        Assert.Equal(0, kernel.Sys.IoctlCount(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS));
        Assert.Equal(3, kernel.OpenDescriptors); // no eventfd made for the refused vector
    }

    [Fact]
    public void A_refused_interrupt_closes_its_eventfd()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, -Errno.EINVAL);
        using var container = kernel.OpenContainer();
        using var group = container.OpenGroup("/dev/vfio/7");
        using var device = group.OpenDevice("ff170000.mmc");

        var error = Assert.Throws<VfioException>(() => device.EnableInterrupt(0));

        Assert.Contains("allow_unsafe_interrupts", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, kernel.OpenDescriptors);
    }

    [Fact]
    public void Use_after_dispose_throws_ObjectDisposedException()
    {
        var kernel = new FakeKernel();
        var container = kernel.OpenContainer();
        var group = container.OpenGroup("/dev/vfio/7");
        var device = group.OpenDevice("ff170000.mmc");
        container.Dispose();

        Assert.Throws<ObjectDisposedException>(() => device.GetRegionInfo(0));
        Assert.Throws<ObjectDisposedException>(() => group.OpenDevice("ff170000.mmc"));
        Assert.Throws<ObjectDisposedException>(() => container.OpenGroup("/dev/vfio/7"));
    }
}

using Vfio.Native;
using Vfio.Platform.Preparation;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The error model's two sides: what the caller got wrong is an argument exception (or, for a call
/// the device cannot take, NotSupportedException) naming the device, the call and the argument, with no
/// made-up errno; what the kernel refused is a VfioException with the errno the kernel returned.</summary>
public sealed class CallerMistakeTests
{
    [Fact]
    public void A_device_named_by_a_path_is_an_argument_error_and_nothing_is_written()
    {
        using var tree = new FakeSysfsTree();

        var bind = Assert.Throws<ArgumentException>(() => VfioDeviceBinding.Bind(tree, "../ff170000.mmc", tree.Options));
        var release = Assert.Throws<ArgumentException>(() => VfioDeviceBinding.Release(tree, "..", reprobe: true, tree.Options));

        Assert.Equal(("device", "device"), (bind.ParamName, release.ParamName));
        Assert.StartsWith("../ff170000.mmc: bind: a device is named by its sysfs name", bind.Message, StringComparison.Ordinal);
        Assert.StartsWith("..: release:", release.Message, StringComparison.Ordinal);
        Assert.Empty(tree.Writes);
    }

    [Fact]
    public void Every_look_up_by_device_name_refuses_a_path_or_an_empty_name_before_reading_sysfs()
    {
        using var tree = new FakeSysfsTree(boundTo: "vfio-platform");
        var options = new Iommufd.IommufdOptions { SysfsRoot = tree.SysfsRoot };

        foreach (var name in new[] { "", " ", ".", "..", "../ff170000.mmc", "bus/platform" })
        {
            Assert.Equal("device", Assert.Throws<ArgumentException>(() => VfioGroup.GroupNumberOf(tree, name)).ParamName);
            Assert.Equal("device", Assert.Throws<ArgumentException>(() => Discovery.HostDevice.Find(tree, name)).ParamName);
            Assert.Equal("device", Assert.Throws<ArgumentException>(() => Iommufd.IommufdContext.FindCdev(name, options)).ParamName);
        }

        Assert.Equal(0, VfioGroup.GroupNumberOf(tree, FakeSysfsTree.Device)); // a name still works
    }

    [Fact]
    public void A_region_that_is_neither_readable_nor_writable_is_refused_as_an_argument()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_GET_REGION_INFO, 0); // flags stay 0: no access
        using var container = kernel.OpenContainer();
        using var device = container.OpenGroup("/dev/vfio/7").OpenDevice("ff170000.mmc");

        var error = Assert.Throws<ArgumentException>(() => device.MapRegion(0));

        Assert.Equal("index", error.ParamName);
        Assert.StartsWith("ff170000.mmc: MapRegion: region 0 is neither readable nor writable", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kernel.Sys.Calls.Count(c => c.Name == "mmap"));
    }

    [Fact]
    public void PCI_only_calls_on_a_platform_device_are_not_supported_and_ask_nothing()
    {
        var kernel = new FakeKernel();
        using var container = kernel.OpenContainer();
        using var device = container.OpenGroup("/dev/vfio/7").OpenDevice("ff170000.mmc");
        var before = kernel.Sys.Calls.Count;

        var busMaster = Assert.Throws<NotSupportedException>(() => device.SetPciBusMaster(true));
        var release = Assert.Throws<NotSupportedException>(() => device.ReleaseRequested += (_, _) => { });

        Assert.StartsWith("ff170000.mmc: SetPciBusMaster:", busMaster.Message, StringComparison.Ordinal);
        Assert.Contains("ff170000.mmc: ReleaseRequested: only vfio-pci devices have a device-request IRQ", release.Message, StringComparison.Ordinal);
        Assert.Equal(before, kernel.Sys.Calls.Count);
    }

    [Fact]
    public void A_reset_the_device_lacks_carries_the_kernels_errno_and_says_what_to_do()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctlValue(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_RESET, _ => -Errno.EINVAL); // vfio-platform without a reset handler
        using var container = kernel.OpenContainer();
        using var device = container.OpenGroup("/dev/vfio/7").OpenDevice("ff170000.mmc");
        Assert.False(device.CanReset);

        var error = Assert.Throws<VfioException>(device.Reset);

        Assert.Equal(("VFIO_DEVICE_RESET", "EINVAL"), (error.Operation, error.ErrnoName));
        Assert.Contains("use the device's own reset", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, kernel.Sys.IoctlCount(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_RESET));
    }
}

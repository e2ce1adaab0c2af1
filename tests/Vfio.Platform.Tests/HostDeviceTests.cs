using Vfio.Platform.Discovery;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>Device discovery on a sysfs tree built in a temp folder the way the kernel lays it out.</summary>
public sealed class HostDeviceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vfio-net-sysfs-").FullName;

    public HostDeviceTests()
    {
        // A ZynqMP SD controller bound to vfio-platform, with an of_node that names its regions and IRQs.
        var sd = Device("platform", "ff170000.mmc");
        var node = Path.Combine(_root, "firmware/devicetree/base/axi/mmc@ff170000");
        Directory.CreateDirectory(node);
        File.WriteAllText(Path.Combine(node, "compatible"), "xlnx,zynqmp-8.9a\0arasan,sdhci-8.9a\0");
        File.WriteAllText(Path.Combine(node, "reg-names"), "sdhci\0cqe\0");
        File.WriteAllText(Path.Combine(node, "interrupt-names"), "sdhci\0");
        File.CreateSymbolicLink(Path.Combine(sd, "of_node"), node);
        Link(sd, "driver", "bus/platform/drivers/vfio-platform");
        Link(sd, "iommu_group", "kernel/iommu_groups/12");
        File.WriteAllText(Path.Combine(sd, "driver_override"), "vfio-platform\n");
        Directory.CreateDirectory(Path.Combine(sd, "vfio-dev/vfio2"));
        File.WriteAllText(Path.Combine(sd, "vfio-dev/vfio2/dev"), "237:2\n");

        // A PCI SD host controller on its own driver, no override.
        var pci = Device("pci", "0000:00:01.0");
        File.WriteAllText(Path.Combine(pci, "vendor"), "0x1b36\n");
        File.WriteAllText(Path.Combine(pci, "device"), "0x0007\n");
        File.WriteAllText(Path.Combine(pci, "class"), "0x080501\n");
        File.WriteAllText(Path.Combine(pci, "driver_override"), "(null)\n");
        Link(pci, "driver", "bus/pci/drivers/sdhci-pci");
        Link(pci, "iommu_group", "kernel/iommu_groups/1");
        Device("pci", "0000:00:00.0");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_platform_device_names_its_regions_and_interrupts_from_the_device_tree()
    {
        var sd = HostDevice.Find("ff170000.mmc", _root);

        Assert.Equal("platform", sd.Bus);
        Assert.Equal("vfio-platform", sd.Driver);
        Assert.Equal("vfio-platform", sd.DriverOverride);
        Assert.True(sd.IsBoundToVfio);
        Assert.Equal(12, sd.IommuGroup);
        Assert.Equal("/dev/vfio/devices/vfio2", sd.Cdev);
        Assert.Equal(["xlnx,zynqmp-8.9a", "arasan,sdhci-8.9a"], sd.Compatible);
        Assert.Equal("cqe", sd.RegionName(1));
        Assert.Null(sd.RegionName(2));
        Assert.Equal("sdhci", sd.InterruptName(0));
        Assert.Null(sd.VendorId);
    }

    [Fact]
    public void A_PCI_device_has_its_identity_and_no_device_tree_names()
    {
        var pci = HostDevice.Find("0000:00:01.0", _root);

        Assert.Equal("pci", pci.Bus);
        Assert.Equal((ushort)0x1b36, pci.VendorId);
        Assert.Equal((ushort)0x0007, pci.DeviceId);
        Assert.Equal(0x080501u, pci.ClassCode);
        Assert.Null(pci.DriverOverride); // "(null)" is the kernel's "none"
        Assert.False(pci.IsBoundToVfio);
        Assert.Equal(1, pci.IommuGroup);
        Assert.Null(pci.Cdev);
        Assert.Empty(pci.Compatible);
        Assert.Null(pci.RegionName(0));
    }

    [Fact]
    public void Enumerate_lists_a_bus_in_name_order_and_an_unknown_device_is_ENODEV()
    {
        Assert.Equal(["0000:00:00.0", "0000:00:01.0"], HostDevice.Enumerate("pci", _root).Select(d => d.Name));
        Assert.Empty(HostDevice.Enumerate("usb", _root));
        var bare = HostDevice.Enumerate("pci", _root)[0];
        Assert.Null(bare.Driver);
        Assert.Null(bare.IommuGroup);

        var error = Assert.Throws<VfioException>(() => HostDevice.Find("nope.mmc", _root));
        Assert.Equal("ENODEV", error.ErrnoName);
    }

    private string Device(string bus, string name)
    {
        var real = Path.Combine(_root, "devices", bus, name);
        Directory.CreateDirectory(real);
        var devices = Path.Combine(_root, "bus", bus, "devices");
        Directory.CreateDirectory(devices);
        File.CreateSymbolicLink(Path.Combine(devices, name), real);
        return real;
    }

    private void Link(string device, string name, string target)
    {
        var full = Path.Combine(_root, target);
        Directory.CreateDirectory(full);
        File.CreateSymbolicLink(Path.Combine(device, name), full);
    }
}

using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>arm64-virt: QEMU virt with an SMMUv3 in front of its PCIe root complex, sdhci-pci behind it, our
/// 6.12 kernel with IOMMUFD and VFIO_DEVICE_CDEV: the iommufd back-end against a real kernel and a real
/// (emulated) IOMMU, and the same device through the legacy group interface.</summary>
[Collection(nameof(GuestCollection))]
public sealed class VirtGuestTests(ITestOutputHelper output)
{
    private const string Arch = "arm64-virt", Device = "0000:00:01.0";

    [Fact]
    public void The_library_owns_the_SDHCI_through_its_cdev_and_an_iommufd_address_space()
    {
        Rig.RequireRig(Arch);
        var payload = Rig.GuestChecks(Arch);

        var (exit, text) = Rig.Run(Arch, $"/payload/vfio-guest-checks {Device} --bind --iommufd --interrupts 100 --release-request", payload);
        output.WriteLine(text);
        var v = Rig.Values(text);

        Assert.Equal(0, exit);
        Assert.Equal("sdhci-pci", v["bind.original"]);
        Assert.Equal("vfio-pci", v["bind.driver"]);
        Assert.Equal("True", v["iommufd.available"]);
        Assert.Equal(v["iommufd.cdev"], v["discovery.cdev"]);
        Assert.Equal("1b36:0007 class 080501", v["discovery.pci"]);
        Assert.Matches(@"^/dev/vfio/devices/vfio\d+$", v["iommufd.cdev"]);
        Assert.Equal("none", v["device.group"]); // opened through the cdev, not a group
        Assert.Equal($"ioas {v["ioas.id"]}", v["device.dmaspace"]);
        Assert.Equal("True", v["device.pci"]);
        Assert.Equal("9", v["device.regions"]);
        Assert.Equal("5", v["device.irqs"]);
        Assert.Equal("EINVAL", v["device.second-open"]); // one bound open of a device at a time
        Assert.Equal("EBUSY", v["group.while-cdev"]); // and not through its group meanwhile
        Assert.Equal("True", v["mmio.mapped"]);
        Assert.Equal("0x57834b4", v["sdhci.capabilities"]);
        Assert.Equal("0x2401", v["sdhci.version"]);
        Assert.Equal("100", v["irq.serviced"]);
        Assert.Equal("0", v["irq.lost"]);
        Assert.Equal("20", v["irq.async.serviced"]);
        // The kernel reserves the SMMU's software MSI window (0x8000000, 1 MiB) in every IOAS.
        Assert.StartsWith("0x0-0x7ffffff,0x8100000-", v["iommu.ranges"], StringComparison.Ordinal);
        Assert.Equal("True", v["dma.iova.in-range"]);
        Assert.Equal("0x100000", v["dma.fixed"]);
        Assert.Equal("EEXIST", v["dma.overlap"]);
        Assert.Equal("0", v["fds.leaked"]);
        Assert.Equal("0", v["maps.leaked"]);
        // Unbinding vfio-pci while the device is open: the kernel asks through the request IRQ, the handler
        // releases the device, and the unbind completes.
        Assert.Equal("True", v["release.requested"]);
        Assert.Equal("True", v["release.unbind-finished"]);
        Assert.Equal("none", v["release.driver-after"]);
        Assert.Equal("sdhci-pci", v["restore.driver"]);
        Assert.Equal("True", v["done"]);
    }

    [Fact]
    public void The_same_device_works_through_its_group_and_the_type1_container_behind_the_SMMUv3()
    {
        Rig.RequireRig(Arch);
        var payload = Rig.GuestChecks(Arch);

        var (exit, text) = Rig.Run(Arch, $"/payload/vfio-guest-checks {Device} --bind --interrupts 50 --release-request", payload);
        output.WriteLine(text);
        var v = Rig.Values(text);

        Assert.Equal(0, exit);
        Assert.Equal("Type1v2", v["container.iommu"]);
        Assert.Equal("False", v["group.noiommu"]);
        Assert.Equal("0x57834b4", v["sdhci.capabilities"]);
        Assert.Equal("50", v["irq.serviced"]);
        Assert.Equal("0", v["irq.lost"]);
        Assert.StartsWith("0x0-0x7ffffff,0x8100000-", v["iommu.ranges"], StringComparison.Ordinal);
        Assert.Equal("0x1000", v["dma.iova"]);
        Assert.Equal("0", v["fds.leaked"]);
        Assert.Equal("0", v["maps.leaked"]);
        Assert.Equal("True", v["release.requested"]);
        Assert.Equal("True", v["release.unbind-finished"]);
        Assert.Equal("sdhci-pci", v["restore.driver"]);
    }
}

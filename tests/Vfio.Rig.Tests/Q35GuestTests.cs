using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>x86_64: QEMU q35 with an emulated Intel IOMMU and sdhci-pci, Debian's stock kernel,
/// vfio-pci with the type1 IOMMU back-end (real isolation, real DMA mapping).</summary>
[Collection(nameof(GuestCollection))]
public sealed class Q35GuestTests(ITestOutputHelper output)
{
    private const string Arch = "x86_64", Device = "0000:00:01.0";

    [Fact]
    public void The_library_owns_the_SDHCI_through_vfio_pci_and_the_type1_IOMMU()
    {
        Rig.RequireRig(Arch);
        var payload = Rig.GuestChecks(Arch);

        var (exit, text) = Rig.Run(Arch, $"/payload/vfio-guest-checks {Device} --bind --interrupts 100 --release-request", payload);
        output.WriteLine(text);
        var v = Rig.Values(text);

        Assert.Equal(0, exit);
        Assert.Equal("sdhci-pci", v["bind.original"]);
        Assert.Equal("vfio-pci", v["bind.driver"]);
        Assert.Equal("sdhci-pci", v["restore.driver"]);
        Assert.Equal("pci", v["discovery.bus"]);
        Assert.Equal("vfio-pci", v["discovery.driver"]);
        Assert.Equal("1b36:0007 class 080501", v["discovery.pci"]); // QEMU's sdhci-pci, class SD host
        Assert.Equal("Type1v2", v["container.iommu"]);
        Assert.Equal("False", v["group.noiommu"]);
        Assert.Equal("True", v["device.pci"]);
        Assert.Equal("0x100", v["region0.size"]);
        Assert.Equal("True", v["mmio.mapped"]);
        Assert.Equal("0x57834b4", v["sdhci.capabilities"]);
        Assert.Equal("0x2401", v["sdhci.version"]);
        Assert.Equal("100", v["irq.serviced"]);
        Assert.Equal("0", v["irq.lost"]);
        Assert.Equal("20", v["irq.async.serviced"]);
        Assert.Equal("ArgumentOutOfRangeException", v["mmio.out-of-bounds"]);
        Assert.Equal("EBUSY", v["group.busy"]);
        // The emulated Intel IOMMU leaves out the MSI window at 0xfee00000, and our allocator honours it.
        Assert.Contains("0xfedfffff,0xfef00000-", v["iommu.ranges"], StringComparison.Ordinal);
        Assert.Equal("0x1000", v["dma.iova"]);
        Assert.Equal("0x1000", v["dma.iova.reused"]);
        Assert.Equal("0", v["fds.leaked"]);
        Assert.Equal("0", v["maps.leaked"]);
        // Huge pages: two 2 MiB pages reserved and used, mapped for DMA through the Intel IOMMU.
        Assert.Equal("0x400000", v["hugepages.length"]);
        Assert.Equal("True", v["hugepages.aligned"]);
        Assert.Equal("2", v["hugepages.free-after-alloc"]);
        Assert.Equal("True", v["hugepages.mapped"]);
        Assert.Equal("True", v["release.requested"]);
        Assert.Equal("True", v["release.unbind-finished"]);
    }
}

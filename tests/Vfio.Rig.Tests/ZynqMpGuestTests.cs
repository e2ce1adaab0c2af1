using System.Text;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The mission's own SoC: QEMU's Xilinx ZCU102 with the Arasan SDHCI at ff170000, our
/// kernel with vfio-platform and no-IOMMU mode. Facts asserted here were read on the rig and agree
/// with the QEMU model: region 0 is 0x1000 bytes, capabilities 0x280737ec6481, version 0x2402.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ZynqMpGuestTests(ITestOutputHelper output)
{
    private const string Arch = "arm64", Device = "ff170000.mmc";

    [Fact]
    public void The_library_owns_the_Arasan_controller_through_vfio_platform()
    {
        Rig.RequireRig(Arch);
        var payload = Rig.GuestChecks(Arch);

        // The library does the seed's preparation itself (--bind), then gives the device back.
        var (exit, text) = Rig.Run(Arch, $"/payload/vfio-guest-checks {Device} --bind --noiommu --interrupts 100 && sleep 1 && echo card.after-restore=$(cat /sys/block/mmcblk1/size)", payload);
        output.WriteLine(text);
        var v = Rig.Values(text);

        Assert.Equal(0, exit);
        Assert.Equal("sdhci-arasan", v["bind.original"]);
        Assert.Equal("vfio-platform", v["bind.driver"]);
        Assert.Equal("platform", v["discovery.bus"]);
        Assert.Equal("vfio-platform", v["discovery.driver"]);
        Assert.Equal("xlnx,zynqmp-8.9a,arasan,sdhci-8.9a", v["discovery.compatible"]); // from the device tree
        Assert.Equal("none", v["discovery.pci"]);
        // Our kernel has VFIO_DEVICE_CDEV, but Linux 6.12 gives no-IOMMU devices no cdev (drivers/vfio/vfio.h):
        // on this SoC without an SMMU the group interface is the only way in.
        Assert.Equal("none", v["discovery.cdev"]);
        Assert.Equal("sdhci-arasan", v["restore.driver"]);
        Assert.Equal("131072", v["card.after-restore"]); // 64 MiB in 512-byte sectors: the kernel driver has the card again
        Assert.Equal("0", v["container.api"]);
        Assert.Equal("/dev/vfio/noiommu-0", v["group.path"]);
        Assert.Equal("NoIommu", v["container.iommu"]);
        Assert.Equal("True", v["device.platform"]);
        Assert.Equal("1", v["device.regions"]);
        Assert.Equal("1", v["device.irqs"]);
        Assert.Equal("0x1000", v["region0.size"]);
        Assert.Equal("True", v["irq0.automasked"]);
        Assert.Equal("True", v["mmio.mapped"]);
        Assert.Equal("0x280737ec6481", v["sdhci.capabilities"]);
        Assert.Equal("0x2402", v["sdhci.version"]);
        Assert.Equal("100", v["irq.serviced"]);
        Assert.Equal("0", v["irq.lost"]);
        Assert.Equal("20", v["irq.async.serviced"]);
        Assert.Equal("0", v["irq.spurious"]);
        Assert.Equal("ArgumentOutOfRangeException", v["region.out-of-range"]);
        Assert.Equal("ArgumentOutOfRangeException", v["irq.out-of-range"]);
        Assert.Equal("ArgumentOutOfRangeException", v["mmio.out-of-bounds"]);
        Assert.Equal("EBUSY", v["group.busy"]);
        Assert.NotEqual("no error", v["device.unknown"]);
        Assert.Equal("EPERM", v["dma.map"]); // no IOMMU, no DMA mapping, said plainly
        Assert.Equal("0", v["fds.leaked"]);
        Assert.Equal("0", v["maps.leaked"]);
    }

    [Fact]
    public void A_no_IOMMU_group_is_refused_without_the_explicit_flag()
    {
        Rig.RequireRig(Arch);
        var payload = Rig.GuestChecks(Arch);

        var (exit, text) = Rig.Run(Arch, $"rig-bind-vfio {Device} >/dev/null && /payload/vfio-guest-checks {Device}", payload);
        output.WriteLine(text);

        Assert.Equal(1, exit);
        Assert.Contains("AllowNoIommu", Rig.Values(text)["error"], StringComparison.Ordinal);
    }

    [Fact]
    public void Without_the_VFIO_driver_the_group_is_missing_and_the_error_says_what_to_do()
    {
        Rig.RequireRig(Arch);
        var payload = Rig.GuestChecks(Arch);

        var (exit, text) = Rig.Run(Arch, $"/payload/vfio-guest-checks {Device} --noiommu", payload);
        output.WriteLine(text);

        Assert.Equal(1, exit);
        Assert.Contains("bind", Rig.Values(text)["error"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_kernel_driver_reads_the_card_image_the_rig_made()
    {
        Rig.RequireRig(Arch);

        var (exit, text) = Rig.Run(Arch, "dd if=/dev/mmcblk1 bs=512 skip=3 count=1 2>/dev/null | head -c 21");
        var image = File.ReadAllBytes(Rig.CardImage()).AsSpan(3 * 512, 21);

        Assert.Equal(0, exit);
        Assert.Equal(Encoding.ASCII.GetString(image), text.Trim());
        Assert.StartsWith("VFIO-NET LBA", text.Trim(), StringComparison.Ordinal);
    }
}

using System.Globalization;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The conformance cases on the platform side: two ZynqMP GDMA channels (QEMU's xlnx.zdma at
/// 0xfd500000 and 0xfd510000, SPI 124 and 125) handed to vfio-platform in the ZCU102 guest, which has no
/// IOMMU, so the one mode is no-IOMMU and the memcpy driver (Conformance/Zdma.cs) gives the channel physical
/// addresses of huge pages. Every cell is asserted; docs/conformance.md has the table.</summary>
[Collection(nameof(GuestCollection))]
public sealed class PlatformConformanceTests(ITestOutputHelper output)
{
    private const string First = "fd500000.dma-controller", Second = "fd510000.dma-controller";

    private static readonly string[] Passing =
    [
        "dma_map_unmap.hugetlb_2mb", "device.regions", "device.irq_software_trigger",
        "driver.memcpy_success", "driver.memcpy_polled", "driver.send_irq", "driver.memcpy_storm", "driver.init_remove", "several.two_channels",
    ];

    private static readonly string[] Modes = ["type1", "type1v2", "iommufd", "iommufd-compat-type1", "iommufd-compat-type1v2"];

    [Fact]
    public void Two_GDMA_channels_through_vfio_platform_in_no_IOMMU_mode()
    {
        Rig.RequireRig("arm64");
        var payload = Rig.GuestChecks("arm64");
        var (exit, text) = Rig.Run("arm64",
            $"rig-bind-vfio {First} >/dev/null && rig-bind-vfio {Second} >/dev/null && /payload/vfio-guest-checks --conformance {First},{Second}", payload);
        output.WriteLine(text);
        var v = Rig.Values(text);

        Assert.Equal(0, exit);
        Assert.Equal("True", v["conformance.done"]);
        Assert.Contains("xlnx,zynqmp-dma-1.0", v["conformance.compatible"], StringComparison.Ordinal);
        Assert.Equal("runs", v["mode.noiommu"]);
        foreach (var name in Passing)
        {
            Assert.Equal($"{name}=pass", $"{name}={v[$"case.{name}.noiommu"]}");
        }

        // What no-IOMMU refuses, with the library's typed error naming the device and the fix.
        Assert.Equal("refused argument buffer", v["case.dma_map_unmap.anonymous.noiommu"]);
        Assert.Contains("huge pages", v["detail.dma_map_unmap.anonymous.noiommu.message"], StringComparison.Ordinal);
        Assert.Equal("refused argument iova", v["case.dma_map_unmap.chosen_iova.noiommu"]);
        Assert.StartsWith("skipped: the ZCU102 guest has", v["case.dma_map_unmap.hugetlb_1gb.noiommu"], StringComparison.Ordinal);
        Assert.StartsWith("not applicable: without an IOMMU there is no IOVA space", v["case.dma_map_limit.unmap_range.noiommu"], StringComparison.Ordinal);
        Assert.StartsWith("not applicable: without an IOMMU no address is unmapped", v["case.driver.memcpy_from_unmapped_iova.noiommu"], StringComparison.Ordinal);
        Assert.StartsWith("skipped: vfio-platform has no reset handler", v["case.device.reset.noiommu"], StringComparison.Ordinal);

        // The device as vfio-platform describes it, and the interrupt behaviour of a level-triggered SPI.
        Assert.StartsWith("size 0x1000 flags 0x7", v["detail.device.regions.noiommu.region0"], StringComparison.Ordinal); // read, write, mmap
        Assert.Equal("regions 1, irqs 1, platform True", v["detail.device.regions.noiommu.counts"]);
        Assert.Contains("automasked True", v["detail.device.irq_software_trigger.noiommu.irq0"], StringComparison.Ordinal);
        Assert.Equal("masked 0, raised 1, while automasked 0, after acknowledge 0", v["detail.driver.send_irq.noiommu.counts"]);
        var physical = ulong.Parse(v["detail.dma_map_unmap.hugetlb_2mb.noiommu.physical"].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.Equal(0UL, physical % (2 << 20));
        Assert.Equal("fds 0, maps 0", v["detail.driver.init_remove.noiommu.leaked"]);
        Assert.True(double.Parse(v["detail.driver.memcpy_storm.noiommu.MBps"], CultureInfo.InvariantCulture) > 0);

        foreach (var mode in Modes)
        {
            Assert.StartsWith("not applicable: QEMU's xlnx-zcu102 models no SMMU", v[$"mode.{mode}"], StringComparison.Ordinal);
            Assert.Equal("not applicable", v[$"case.driver.memcpy_success.{mode}"]);
        }

        Assert.Equal("pass 9, refused 2, skipped 2, not applicable 77, not ported 0, failed 0", v["conformance.counts"]);
    }
}

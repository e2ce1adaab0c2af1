using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>
/// DMA without an IOMMU, on the ZynqMP guest (vfio-platform in no-IOMMU mode): the probe's SDMA and
/// ADMA2 modes give the Arasan controller the physical address of a 2 MiB huge page
/// (<c>PhysicalDmaSpace</c>). Reads must equal the card image and the kernel's read; without a reserved
/// huge page the probe must say how to reserve one and give the controller back.
/// QEMU fact: the huge page starts on a 512 KiB SDMA boundary, so QEMU's SDMA pauses there (it only
/// does so for boundary-aligned starts) and then ignores the next address (its CVE-2021-3409 fix
/// drops SDMA address writes during a transfer): SDMA is read within one boundary window here, and the
/// longer read must fail with that explanation.
/// </summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbePhysicalDmaTests(ITestOutputHelper output)
{
    // ADMA2: 3000 blocks, two commands (2048 + 952) with the probe's 1 MiB per command.
    // SDMA: 1000 blocks (500 KiB), inside the first 512 KiB boundary window.
    private const int First = 5000, Count = 3000, SdmaCount = 1000;
    private const string Probe = "/payload/sdhci-probe", Device = "ff170000.mmc", Sysfs = "/sys/bus/platform/devices/" + Device;

    [Fact]
    public void Sdma_and_adma2_reads_by_physical_address_equal_the_image_and_the_kernel()
    {
        Rig.RequireRig("arm64");
        string Read(string mode, int count) =>
            $"{Probe} read {Device} --bind --noiommu --lba {First} --count {count} --mode {mode} --json --force --out /tmp/blocks.bin && sha256sum < /tmp/blocks.bin";
        var results = Rig.RunSteps("arm64", Rig.Probe("arm64"),
            ("no-huge-page", Rig.Refused($"echo 0 > /proc/sys/vm/nr_hugepages; {Probe} read {Device} --bind --noiommu --lba 0 --count 8 --mode adma2 --out /tmp/x.bin", Sysfs)),
            ("reserve", "echo 1 > /proc/sys/vm/nr_hugepages; grep -E 'HugePages_(Total|Free)' /proc/meminfo"),
            ("adma2", Read("adma2", Count)),
            ("sdma", Read("sdma", SdmaCount)),
            ("sdma-boundary", Rig.Refused($"{Probe} read {Device} --bind --noiommu --lba 0 --count 2000 --mode sdma --out /tmp/x.bin", Sysfs)),
            ("kernel", $"sleep 1; dd if=/dev/mmcblk1 bs=512 skip={First} count={Count} iflag=direct 2>/dev/null | sha256sum; grep HugePages_Free /proc/meminfo"));
        Rig.Log(output, results);

        // --bind undone after each failure: the controller is back on sdhci-arasan.
        Rig.AssertRefused(results["no-huge-page"], 1, "sdhci-arasan", "mmap(DMA buffer)", "nr_hugepages");
        Assert.Contains("HugePages_Total:       1", results["reserve"].Output, StringComparison.Ordinal);

        foreach (var (mode, count) in new[] { ("adma2", Count), ("sdma", SdmaCount) })
        {
            Assert.Equal(mode, Rig.AssertProbeRead(results[mode], First, count).GetProperty("mode").GetString());
        }

        // The Arasan reports a 64-bit system bus (Capabilities bit 28): ADMA2 takes 96-bit descriptors, and
        // the card runs in High Speed after the CMD6 switch.
        var adma2 = Rig.AssertProbeRead(results["adma2"], First, Count);
        Assert.Equal("64-bit", adma2.GetProperty("adma").GetString());
        Assert.Equal("high", adma2.GetProperty("card").GetProperty("busSpeed").GetString());

        Rig.AssertRefused(results["sdma-boundary"], 1, "sdhci-arasan", "did not resume at 0x", "CVE-2021-3409");

        Assert.StartsWith(Rig.CardHash(First, Count), results["kernel"].Output.Trim(), StringComparison.Ordinal);
        Assert.Contains("HugePages_Free:        1", results["kernel"].Output, StringComparison.Ordinal); // the probe gave its page back
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>
/// DMA above 4 GiB on the ZynqMP guest, as on a real ZCU102: with 3 GiB of RAM the board has 2 GiB of DDR at 0
/// and 1 GiB at 0x8_0000_0000 (<c>rig run --ram-mib</c>), and the guest kernel, like a distribution's, serves
/// user pages from above 4 GiB first (ZONE_NORMAL). So the huge page the probe takes in no-IOMMU mode lies
/// above 4 GiB, and the Arasan must reach it with 64-bit ADMA2 (Capabilities bit 28: 96-bit descriptors).
/// Reads and a write through it must equal the image / what the kernel reads back; SDMA, which takes 32-bit
/// addresses on this (version 3) host, must be refused with the reason before any command, and the
/// controller given back.
/// </summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeHighMemoryDmaTests(ITestOutputHelper output)
{
    private const string Probe = "/payload/sdhci-probe", Device = "ff170000.mmc", Sysfs = "/sys/bus/platform/devices/" + Device;
    private const int First = 7000, Count = 2500, Written = 3000, WriteCount = 64;
    private const string Pattern = "ABOVE 4 GIB ";

    [Fact]
    public void Adma2_reads_and_writes_through_a_huge_page_above_4_GiB_and_sdma_is_refused()
    {
        Rig.RequireRig("arm64");
        var results = Rig.RunSteps("arm64", Rig.Probe("arm64"), ["--ram-mib", "3072"],
            ("memory", "grep MemTotal /proc/meminfo; grep -c 'System RAM' /proc/iomem; grep '^800000000-' /proc/iomem; echo 1 > /proc/sys/vm/nr_hugepages; grep HugePages_Total /proc/meminfo"),
            ("read", $"{Probe} read {Device} --bind --noiommu --lba {First} --count {Count} --mode adma2 --json --out /tmp/read.bin && sha256sum < /tmp/read.bin"),
            ("write", $"{Probe} write {Device} --bind --noiommu --lba {Written} --count {WriteCount} --pattern '{Pattern}' --mode adma2 --allow-write --json"),
            ("sdma", Rig.Refused($"{Probe} read {Device} --bind --noiommu --lba 0 --count 8 --mode sdma --out /tmp/sdma.bin", Sysfs)),
            ("kernel", $"sleep 1; dd if=/dev/mmcblk1 bs=512 skip={Written} count={WriteCount} iflag=direct 2>/dev/null | sha256sum; grep HugePages_Free /proc/meminfo"));
        Rig.Log(output, results);

        // The guest has its high DDR: 3 GiB in all, a System RAM range at 0x8_0000_0000.
        Assert.Equal(0, results["memory"].ExitCode);
        Assert.Contains("800000000-83fffffff : System RAM", results["memory"].Output, StringComparison.Ordinal);
        Assert.Contains("HugePages_Total:       1", results["memory"].Output, StringComparison.Ordinal);

        var read = Rig.AssertProbeRead(results["read"], First, Count);
        Assert.Equal("64-bit", read.GetProperty("adma").GetString());
        Assert.True(DmaAddress(read) >= 1UL << 32, $"the huge page is at {read.GetProperty("dmaAddress")}, below 4 GiB: the test proves nothing");

        Assert.Equal(0, results["write"].ExitCode);
        var write = JsonReport(results["write"].Output);
        Assert.Equal(WriteCount * 512L, write.GetProperty("bytes").GetInt64());
        Assert.True(DmaAddress(write) >= 1UL << 32);
        var expected = new byte[WriteCount * 512];
        var unit = Encoding.ASCII.GetBytes(Pattern);
        for (var i = 0; i < expected.Length; i++)
            expected[i] = unit[i % 512 % unit.Length];
        Assert.StartsWith(Convert.ToHexStringLower(SHA256.HashData(expected)), results["kernel"].Output.Trim(), StringComparison.Ordinal);

        Rig.AssertRefused(results["sdma"], 2, "sdhci-arasan", "at 0x8", "ends above 4 GiB", "SDMA takes 32-bit addresses", "Use ADMA2", "was removed");
        Assert.Contains("HugePages_Free:        1", results["kernel"].Output, StringComparison.Ordinal); // the page went back
    }

    private static System.Text.Json.JsonElement JsonReport(string output)
    {
        using var json = System.Text.Json.JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..(output.LastIndexOf('}') + 1)]);
        return json.RootElement.Clone();
    }

    private static ulong DmaAddress(System.Text.Json.JsonElement report) =>
        ulong.Parse(report.GetProperty("dmaAddress").GetString()!.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}

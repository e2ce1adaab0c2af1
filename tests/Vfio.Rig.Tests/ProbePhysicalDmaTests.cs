using System.Security.Cryptography;
using System.Text.Json;
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
    private const string Probe = "/payload/sdhci-probe", Device = "ff170000.mmc";

    [Fact]
    public void Sdma_and_adma2_reads_by_physical_address_equal_the_image_and_the_kernel()
    {
        Rig.RequireRig("arm64");
        string Read(string mode, int count) =>
            $"{Probe} read {Device} --bind --noiommu --lba {First} --count {count} --mode {mode} --json --out /tmp/blocks.bin && sha256sum < /tmp/blocks.bin";
        var results = Rig.RunSteps("arm64", Rig.Probe("arm64"),
            ("no-huge-page", $"echo 0 > /proc/sys/vm/nr_hugepages; {Probe} read {Device} --bind --noiommu --lba 0 --count 8 --mode adma2 --out /tmp/x.bin; echo rc=$?; readlink /sys/bus/platform/devices/{Device}/driver"),
            ("reserve", "echo 1 > /proc/sys/vm/nr_hugepages; grep -E 'HugePages_(Total|Free)' /proc/meminfo"),
            ("adma2", Read("adma2", Count)),
            ("sdma", Read("sdma", SdmaCount)),
            ("sdma-boundary", $"{Probe} read {Device} --bind --noiommu --lba 0 --count 2000 --mode sdma --out /tmp/x.bin; echo rc=$?; readlink /sys/bus/platform/devices/{Device}/driver"),
            ("kernel", $"sleep 1; dd if=/dev/mmcblk1 bs=512 skip={First} count={Count} iflag=direct 2>/dev/null | sha256sum; grep HugePages_Free /proc/meminfo"));
        foreach (var (name, (exit, text)) in results)
        {
            output.WriteLine($"--- {name} (exit {exit})\n{text}");
        }

        var refused = results["no-huge-page"].Output;
        Assert.Contains("mmap(DMA buffer)", refused, StringComparison.Ordinal);
        Assert.Contains("nr_hugepages", refused, StringComparison.Ordinal);
        Assert.Contains("rc=", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("rc=0", refused, StringComparison.Ordinal);
        Assert.Contains("/drivers/sdhci-arasan", refused, StringComparison.Ordinal); // --bind undone after the failure
        Assert.Contains("HugePages_Total:       1", results["reserve"].Output, StringComparison.Ordinal);

        var card = File.ReadAllBytes(Rig.CardImage());
        var image = Convert.ToHexStringLower(SHA256.HashData(card.AsSpan(First * 512, Count * 512)));
        foreach (var (mode, count) in new[] { ("adma2", Count), ("sdma", SdmaCount) })
        {
            Assert.Equal(0, results[mode].ExitCode);
            var text = results[mode].Output;
            Assert.Contains($"{Convert.ToHexStringLower(SHA256.HashData(card.AsSpan(First * 512, count * 512)))}  -", text, StringComparison.Ordinal);
            using var json = JsonDocument.Parse(text[..(text.LastIndexOf('}') + 1)]);
            Assert.Equal(mode, json.RootElement.GetProperty("mode").GetString());
            Assert.Equal(count * 512L, json.RootElement.GetProperty("bytes").GetInt64());
        }

        var stalled = results["sdma-boundary"].Output;
        Assert.Contains("did not resume at 0x", stalled, StringComparison.Ordinal);
        Assert.Contains("CVE-2021-3409", stalled, StringComparison.Ordinal);
        Assert.DoesNotContain("rc=0", stalled, StringComparison.Ordinal);
        Assert.Contains("/drivers/sdhci-arasan", stalled, StringComparison.Ordinal);

        Assert.StartsWith(image, results["kernel"].Output.Trim(), StringComparison.Ordinal);
        Assert.Contains("HugePages_Free:        1", results["kernel"].Output, StringComparison.Ordinal); // the probe gave its page back
    }
}

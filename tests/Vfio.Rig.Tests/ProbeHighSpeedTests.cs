using System.Text.Json;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>
/// Bus speed modes and the ADMA2 width against QEMU 7.2 in both guests. QEMU's card answers CMD6
/// (sd_function_switch: group 1 supports 0x8003) and both controllers have High Speed Support
/// (Capabilities bit 21), so init must reach High Speed, as the kernel's own driver does ("new high
/// speed SD card" in dmesg); --max-speed default must stay at 25 MHz; a multi-command ADMA2 read and
/// a write after the switch must still equal the image. The Arasan (0x37ec6481) has bit 28 and gets
/// 64-bit descriptors; sdhci-pci (0x057834b4) has not and keeps 32-bit ones.
/// </summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeHighSpeedTests(ITestOutputHelper output)
{
    private const string Probe = "/payload/sdhci-probe";
    private const int First = 20000, Count = 2100;             // two ADMA2 commands: 2048 + 52 blocks

    [Theory]
    [InlineData("arm64", "ff170000.mmc", "--noiommu", "64-bit", 50_000_000)]
    [InlineData("x86_64", "0000:00:01.0", "", "32-bit", 26_000_000)]   // 52 MHz base, spec 2.00 dividers: 52 / 2
    public void Init_reaches_High_Speed_and_ADMA2_reads_after_it_equal_the_image(string arch, string device, string noIommu, string adma, long clockHz)
    {
        Rig.RequireRig(arch);
        var hugePage = arch == "arm64" ? "echo 1 > /proc/sys/vm/nr_hugepages && " : "";
        var results = Rig.RunSteps(arch, Rig.Probe(arch),
            ("kernel-mode", "dmesg | grep -m1 -o 'new [a-z ]*SD[A-Z]* card'"),
            ("init", $"{Probe} init {device} --bind {noIommu} --json"),
            ("default", $"{Probe} init {device} --bind {noIommu} --max-speed default"),
            ("read", $"{hugePage}{Probe} read {device} --bind {noIommu} --lba {First} --count {Count} --mode adma2 --json --out /tmp/hs.bin && sha256sum < /tmp/hs.bin"),
            ("ddr50", $"{Probe} init {device} --bind {noIommu} --max-speed ddr50"),
            ("bad-speed", $"{Probe} init {device} --bind {noIommu} --max-speed hs400; echo rc=$?"));   // an eMMC mode: no SD card has it
        Rig.Log(output, results);

        Assert.Contains("new high speed SD card", results["kernel-mode"].Output, StringComparison.Ordinal);

        Assert.Equal(0, results["init"].ExitCode);
        using (var init = JsonDocument.Parse(results["init"].Output[..(results["init"].Output.LastIndexOf('}') + 1)]))
        {
            var card = init.RootElement;
            Assert.Equal("high", card.GetProperty("busSpeed").GetString());
            Assert.EndsWith("card and host support it", card.GetProperty("busSpeedReason").GetString(), StringComparison.Ordinal);
            Assert.Equal(clockHz, card.GetProperty("clockHz").GetInt64());
            Assert.Equal(adma, card.GetProperty("adma2").GetString());
        }

        Assert.Equal(0, results["default"].ExitCode);
        Assert.Contains("Bus speed: Default Speed (25 MHz max, SD clock ", results["default"].Output, StringComparison.Ordinal);
        Assert.Contains("capped by the options (--max-speed default)", results["default"].Output, StringComparison.Ordinal);

        var report = Rig.AssertProbeRead(results["read"], First, Count);
        Assert.Equal(adma, report.GetProperty("adma").GetString());
        Assert.Equal("high", report.GetProperty("card").GetProperty("busSpeed").GetString());

        // DDR50 is a UHS-I mode: QEMU's card never grants 1.8 V, so a cap of ddr50 still brings it up at High Speed.
        Assert.Equal(0, results["ddr50"].ExitCode);
        Assert.Contains("Bus speed: High Speed (50 MHz max", results["ddr50"].Output, StringComparison.Ordinal);

        Assert.Contains("rc=2", results["bad-speed"].Output, StringComparison.Ordinal);   // a usage error, nothing touched
    }
}

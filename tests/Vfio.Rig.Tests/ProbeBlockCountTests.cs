using System.Text.Json;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>
/// How multi-block reads end, against QEMU's card: with the card model at physical layer 3.01
/// (<c>rig run --card-spec 3</c>) the card takes CMD23, so <c>--block-count cmd23</c> (SET_BLOCK_COUNT
/// before each CMD18, no CMD12) and <c>cmd12</c> (auto-CMD12) must both return the card image's bytes and
/// the kernel's; at QEMU's default (2.00) CMD23 is illegal and the probe must say so and recover.
/// </summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeBlockCountTests(ITestOutputHelper output)
{
    // 3000 blocks: two commands (2048 + 952) with the probe's 1 MiB per command.
    private const int First = 4000, Count = 3000;

    [Theory]
    [InlineData("x86_64", "0000:00:01.0", "mmcblk0", "", "adma2")]
    [InlineData("arm64", "ff170000.mmc", "mmcblk1", "--noiommu", "pio")]
    public void Cmd23_and_auto_CMD12_reads_equal_the_image_and_the_kernel(string arch, string device, string block, string extra, string mode)
    {
        Rig.RequireRig(arch);
        const string Probe = "/payload/sdhci-probe";
        string Read(string way) =>
            $"{Probe} read {device} --bind {extra} --lba {First} --count {Count} --mode {mode} --block-count {way} --json --force --out /tmp/blocks.bin && sha256sum < /tmp/blocks.bin";
        var results = Rig.RunSteps(arch, Rig.Probe(arch), ["--card-spec", "3"],
            ("init", $"{Probe} init {device} --bind {extra} --json"),
            ("cmd23", Read("cmd23")),
            ("cmd12", Read("cmd12")),
            ("kernel", $"sleep 1; dd if=/dev/{block} bs=512 skip={First} count={Count} iflag=direct 2>/dev/null | sha256sum"));
        Rig.Log(output, results);

        using (var init = JsonDocument.Parse(results["init"].Output))
        {
            Assert.Equal("cmd12", init.RootElement.GetProperty("blockCountMode").GetString()); // auto: QEMU's SCR does not list CMD23
            Assert.False(init.RootElement.GetProperty("scr").GetProperty("cmd23").GetBoolean());
            Assert.Equal("QEMU!", init.RootElement.GetProperty("cid").GetProperty("product").GetString());
        }

        foreach (var way in new[] { "cmd23", "cmd12" })
        {
            Assert.Equal(way, Rig.AssertProbeRead(results[way], First, Count).GetProperty("blockCountMode").GetString());
        }

        Assert.StartsWith(Rig.CardHash(First, Count), results["kernel"].Output.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void Cmd23_on_QEMUs_default_card_is_refused_with_the_way_out_and_the_controller_goes_back()
    {
        Rig.RequireRig("x86_64");
        const string Probe = "/payload/sdhci-probe";
        var results = Rig.RunSteps("x86_64", Rig.Probe("x86_64"),
            ("cmd23", Rig.Refused($"{Probe} read 0000:00:01.0 --bind --lba 0 --count 8 --mode adma2 --block-count cmd23 --out /tmp/x.bin", "/sys/bus/pci/devices/0000:00:01.0")),
            ("kernel", "sleep 1; dd if=/dev/mmcblk0 bs=512 count=1 iflag=direct 2>/dev/null | head -c 21; echo"));
        Rig.Log(output, results);

        Rig.AssertRefused(results["cmd23"], 1, "sdhci-pci", "CMD23 (SET_BLOCK_COUNT): the card did not answer", "--block-count cmd12");
        Assert.StartsWith("VFIO-NET LBA 00000000", results["kernel"].Output.Trim(), StringComparison.Ordinal);
    }
}

using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>A high-capacity card: QEMU models an SDHC card for an image over 2 GiB (here 4 GiB,
/// `rig run --card-mib 4096`). The probe must bring it up with block addressing and read its last
/// blocks, past the 2 GiB a byte address of a standard-capacity card can reach, equal to the image
/// (the card recipe, computed on the host) and to the kernel's read of the same blocks.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeSdhcTests(ITestOutputHelper output)
{
    private const int CardMib = 4096;
    private const long Blocks = CardMib * 2048L;

    [Fact]
    public void The_card_recipe_computed_on_the_host_is_the_image_the_rig_makes()
    {
        Rig.RequireRig("x86_64");
        Assert.Equal(Rig.CardHash(0, 64), Rig.CardRecipeHash(0, 64));
        Assert.Equal(Rig.CardHash(130000, 72), Rig.CardRecipeHash(130000, 72));
    }

    [Theory]
    [InlineData("arm64", "ff170000.mmc", "mmcblk1", "--noiommu")]
    [InlineData("x86_64", "0000:00:01.0", "mmcblk0", "")]
    public void A_4_GiB_card_is_high_capacity_and_its_last_blocks_read_right(string arch, string device, string block, string extra)
    {
        Rig.RequireRig(arch);
        const int Count = 96;
        var last = Blocks - Count;
        var probe = "/payload/sdhci-probe";
        var hugePage = arch == "arm64" ? "echo 1 > /proc/sys/vm/nr_hugepages && " : "";
        var steps = Rig.RunSteps(arch, Rig.Probe(arch), ["--card-mib", CardMib.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ("init", $"{probe} init {device} --bind {extra} --json"),
            ("pio", $"{probe} read {device} --bind {extra} --lba {last} --count {Count} --mode pio --json --out /tmp/pio.bin && sha256sum < /tmp/pio.bin"),
            ("adma2", $"{hugePage}{probe} read {device} --bind {extra} --lba {last} --count {Count} --mode adma2 --json --out /tmp/adma2.bin && sha256sum < /tmp/adma2.bin"),
            ("beyond", Rig.Refused($"{probe} read {device} --bind {extra} --lba {Blocks - 8} --count 16 --out /tmp/beyond.bin", $"/sys/bus/{(arch == "arm64" ? "platform" : "pci")}/devices/{device}")),
            ("kernel", $"sleep 1; cat /sys/class/block/{block}/size; dd if=/dev/{block} bs=512 skip={last} count={Count} 2>/dev/null | sha256sum"));
        Rig.Log(output, steps);

        Assert.Equal(0, steps["init"].ExitCode);
        Assert.Contains("\"type\": \"HighCapacity\"", steps["init"].Output, StringComparison.Ordinal);
        Assert.Contains("\"blockAddressing\": true", steps["init"].Output, StringComparison.Ordinal);
        Assert.Contains($"\"capacityBytes\": {Blocks * 512}", steps["init"].Output, StringComparison.Ordinal);

        var expected = Rig.CardRecipeHash(last, Count);
        foreach (var mode in new[] { "pio", "adma2" })
        {
            Assert.Equal(0, steps[mode].ExitCode);
            Assert.Contains($"{expected}  -", steps[mode].Output, StringComparison.Ordinal);
        }

        // Past the end: refused before any data command (usage error), the device back with its driver.
        Assert.Contains("rc=2", steps["beyond"].Output, StringComparison.Ordinal);
        var kernel = steps["kernel"].Output.Trim().Split('\n');
        Assert.Equal(Blocks.ToString(System.Globalization.CultureInfo.InvariantCulture), kernel[0].Trim());
        Assert.StartsWith(expected, kernel[^1].Trim(), StringComparison.Ordinal);
    }
}

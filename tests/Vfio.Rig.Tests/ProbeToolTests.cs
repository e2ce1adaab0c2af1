using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>sdhci-probe itself in both guests: list, bind, dump, irq (10,000 real interrupts, none
/// lost), unbind --restore, and the errors a person meets first.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeToolTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("arm64", "ff170000.mmc", "sdhci-arasan", "--noiommu", "Version:  0x00002402", "Caps:      0x37ec6481 | Caps_1:   0x00002807")]
    [InlineData("x86_64", "0000:00:01.0", "sdhci-pci", "", "Version:  0x00002401", "Caps:      0x057834b4 | Caps_1:   0x00000000")]
    public void The_probe_binds_dumps_services_interrupts_and_gives_the_controller_back(string arch, string device, string driver, string noIommu, string version, string caps)
    {
        Rig.RequireRig(arch);
        var probe = "/payload/sdhci-probe";

        var steps = Rig.RunSteps(arch, Rig.Probe(arch),
            ("list", $"{probe} list"),
            ("dump-unbound", $"{probe} dump {device} {noIommu}"),
            ("bind", $"{probe} bind {device} {noIommu}"),
            ("dump", $"{probe} dump {device} {noIommu}"),
            ("decode", $"{probe} dump {device} {noIommu} --decode"),
            ("irq", $"{probe} irq {device} {noIommu} --count 10000 --json"),
            ("unbind", $"{probe} unbind {device} --restore --json"),
            ("bad-device", $"{probe} dump no-such.mmc"));
        Rig.Log(output, steps);

        Assert.Equal(0, steps["list"].ExitCode);
        Assert.Contains($"{device}", steps["list"].Output, StringComparison.Ordinal);
        Assert.Contains(driver, steps["list"].Output, StringComparison.Ordinal);

        Assert.Equal(1, steps["dump-unbound"].ExitCode);
        Assert.Contains($"sdhci-probe bind {device}", steps["dump-unbound"].Output, StringComparison.Ordinal);

        Assert.Equal(0, steps["bind"].ExitCode);
        Assert.Contains($"{driver} ->", steps["bind"].Output, StringComparison.Ordinal);

        Assert.Equal(0, steps["dump"].ExitCode);
        Assert.Contains("============ SDHCI REGISTER DUMP ===========", steps["dump"].Output, StringComparison.Ordinal);
        Assert.Contains(version, steps["dump"].Output, StringComparison.Ordinal);
        Assert.Contains(caps, steps["dump"].Output, StringComparison.Ordinal);
        Assert.Equal(0, steps["decode"].ExitCode);

        Assert.Equal(0, steps["irq"].ExitCode);
        Assert.Contains("\"serviced\": 10000", steps["irq"].Output, StringComparison.Ordinal);
        Assert.Contains("\"lost\": 0", steps["irq"].Output, StringComparison.Ordinal);

        Assert.Equal(0, steps["unbind"].ExitCode);
        Assert.Contains($"\"driver\": \"{driver}\"", steps["unbind"].Output, StringComparison.Ordinal);
        Assert.Contains("\"restored\": true", steps["unbind"].Output, StringComparison.Ordinal);

        Assert.Equal(1, steps["bad-device"].ExitCode);
        Assert.Contains("sdhci-probe list", steps["bad-device"].Output, StringComparison.Ordinal);
    }
}

/// <summary>sdhci-probe init and read against QEMU's emulated card: the bytes must be the card image's
/// (made on the host) and the kernel driver's (read in the same guest after the device is given back),
/// in every transfer mode (on arm64, without an IOMMU, DMA by physical address), interrupt-driven and with --poll.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeCardTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("arm64", "ff170000.mmc", "mmcblk1", "--noiommu", new[] { "pio", "sdma", "adma2" }, "64-bit", "SD clock 50 MHz")]    // Arasan: bit 28, 100 MHz base
    [InlineData("x86_64", "0000:00:01.0", "mmcblk0", "", new[] { "pio", "sdma", "adma2" }, "32-bit", "SD clock 26 MHz")]      // sdhci-pci: no bit 28, 52 MHz base
    public void Init_identifies_the_card_and_every_read_mode_returns_the_image_bytes(string arch, string device, string block, string noIommu, string[] modes,
        string adma, string clock)
    {
        Rig.RequireRig(arch);
        const int Lba = 1000, Count = 300;
        var probe = $"/payload/sdhci-probe";
        // No IOMMU on arm64: the DMA modes take a huge page's physical address, so reserve one.
        var hugePage = arch == "arm64" ? "echo 1 > /proc/sys/vm/nr_hugepages && " : "";
        var steps = new List<(string, string)> { ("init", $"{hugePage}{probe} init {device} --bind {noIommu}") };
        steps.AddRange(modes.Select(m => (m, $"{probe} read {device} --bind {noIommu} --lba {Lba} --count {Count} --mode {m} --out /tmp/{m}.bin && sha256sum < /tmp/{m}.bin")));
        steps.Add(("poll", $"{probe} read {device} --bind {noIommu} --lba {Lba} --count {Count} --mode {modes[^1]} --poll --out /tmp/poll.bin && sha256sum < /tmp/poll.bin"));
        steps.Add(("kernel", $"sleep 1; dd if=/dev/{block} bs=512 skip={Lba} count={Count} 2>/dev/null | sha256sum"));

        var results = Rig.RunSteps(arch, Rig.Probe(arch), [.. steps]);
        Rig.Log(output, results);

        var expected = Rig.CardHash(Lba, Count);

        Assert.Equal(0, results["init"].ExitCode);
        Assert.Contains("CID aa585951454d552101deadbeef006200", results["init"].Output, StringComparison.Ordinal); // QEMU's card: 'QEMU!', serial 0xdeadbeef
        Assert.Contains("Capacity: 67108864 bytes", results["init"].Output, StringComparison.Ordinal);
        Assert.Contains("4-bit bus", results["init"].Output, StringComparison.Ordinal);
        // QEMU's card answers CMD6 and offers High Speed; both hosts have Capabilities bit 21.
        Assert.Contains($"Bus speed: High Speed (50 MHz max, {clock}): card and host support it", results["init"].Output, StringComparison.Ordinal);
        Assert.Contains($"DMA: ADMA2 with {adma} addresses", results["init"].Output, StringComparison.Ordinal);
        foreach (var mode in modes.Append("poll"))
        {
            Assert.Equal(0, results[mode].ExitCode);
            Assert.Contains($"{expected}  -", results[mode].Output, StringComparison.Ordinal);
        }

        Assert.StartsWith(expected, results["kernel"].Output.Trim(), StringComparison.Ordinal);
    }
}

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
            ("unbind", $"{probe} unbind {device} --restore"),
            ("bad-device", $"{probe} dump no-such.mmc"));
        foreach (var (name, (exit, text)) in steps)
        {
            output.WriteLine($"--- {name} (exit {exit})\n{text}");
        }

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
        Assert.Contains($"now bound to {driver}", steps["unbind"].Output, StringComparison.Ordinal);

        Assert.Equal(1, steps["bad-device"].ExitCode);
        Assert.Contains("sdhci-probe list", steps["bad-device"].Output, StringComparison.Ordinal);
    }
}

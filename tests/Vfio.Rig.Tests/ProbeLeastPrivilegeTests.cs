using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>Least privilege: root binds the controller with <c>--owner</c>, then an ordinary user dumps
/// its registers, services its interrupts and reads the card by DMA through the IOMMU (type1 container),
/// and root gives it back. Both PCI guests; the ZynqMP guest has no IOMMU, and a no-IOMMU group is
/// root's by the kernel's rule (CAP_SYS_RAWIO), which bind says.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeLeastPrivilegeTests(ITestOutputHelper output)
{
    private const string Probe = "/payload/sdhci-probe", Device = "0000:00:01.0";

    [Theory]
    [InlineData("x86_64")]
    [InlineData("arm64-virt")]
    public void A_user_given_the_nodes_dumps_services_interrupts_and_reads_by_DMA_without_root(string arch)
    {
        Rig.RequireRig(arch);
        const int Lba = 2000, Count = 64;
        static string AsUser(string command) => $"su probe -s /bin/sh -c '{command}'";

        var steps = Rig.RunSteps(arch, Rig.Probe(arch),
            ("user", "echo 'probe:x:1000:1000::/tmp:/bin/sh' >> /etc/passwd && echo 'probe:x:1000:' >> /etc/group && " + AsUser("id -u")),
            ("refused-before", AsUser($"{Probe} dump {Device}") + "; echo rc=$?"),
            ("bind", $"{Probe} bind {Device} --owner probe && ls -ln /dev/vfio/"),
            ("dump", AsUser($"{Probe} dump {Device}")),
            ("irq", AsUser($"{Probe} irq {Device} --count 200 --json")),
            ("read", AsUser($"{Probe} read {Device} --lba {Lba} --count {Count} --mode adma2 --json --out /tmp/user.bin && sha256sum < /tmp/user.bin")),
            ("unbind-as-user", AsUser($"{Probe} unbind {Device} --restore") + $"; echo rc=$?; readlink /sys/bus/pci/devices/{Device}/driver"),
            ("unbind", $"{Probe} unbind {Device} --restore && ls /dev/vfio/"));
        Rig.Log(output, steps);

        Assert.Equal("1000", steps["user"].Output.Trim());
        Assert.Contains("rc=1", steps["refused-before"].Output, StringComparison.Ordinal); // not bound yet: nothing to open

        Assert.Equal(0, steps["bind"].ExitCode);
        Assert.Matches(@"crw-------\s+1 1000\s+1000\s+.*\d+\n", steps["bind"].Output); // the group node, the user's
        Assert.Contains("locked-memory limit", steps["bind"].Output, StringComparison.Ordinal);

        Assert.Equal(0, steps["dump"].ExitCode);
        Assert.Contains("============ SDHCI REGISTER DUMP ===========", steps["dump"].Output, StringComparison.Ordinal);
        Assert.Equal(0, steps["irq"].ExitCode);
        Assert.Contains("\"serviced\": 200", steps["irq"].Output, StringComparison.Ordinal);
        Rig.AssertProbeRead(steps["read"], Lba, Count);

        // Giving the device back changes driver bindings: root's, and the user is told so.
        Assert.Contains("rc=1", steps["unbind-as-user"].Output, StringComparison.Ordinal);
        Assert.Contains("needs root", steps["unbind-as-user"].Output, StringComparison.Ordinal);
        Assert.EndsWith("/drivers/vfio-pci", steps["unbind-as-user"].Output.Trim(), StringComparison.Ordinal);
        Assert.Equal(0, steps["unbind"].ExitCode);
        Assert.Equal("vfio", steps["unbind"].Output.Trim().Split('\n')[^1].Trim()); // only the container node is left
    }
}

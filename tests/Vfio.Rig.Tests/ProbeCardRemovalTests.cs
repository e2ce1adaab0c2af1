using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>
/// The card pulled mid-read, for real: QEMU 7.2 ejects it from its monitor (`rig run --eject-card-on`,
/// QMP `eject` on the card's drive) while `sdhci-probe read` streams the whole 64 MiB card to a file.
/// QEMU's sdhci_set_inserted then clears Card Inserted (Present State bit 16) and raises Card Removal
/// (Normal Interrupt Status bit 7) at once, while its sd.c answers the rest of the transfer with zeros
/// and no error bit. The probe must fail promptly (exit 1) saying the card was removed, with no stack
/// trace and no generic timeout; remove its partial output file; give the controller back to its kernel
/// driver with no record left; and the next probe must find no card.
/// </summary>
[Collection(nameof(GuestCollection))]
public sealed partial class ProbeCardRemovalTests(ITestOutputHelper output)
{
    private const string Probe = "/payload/sdhci-probe", Eject = "@@eject-card";
    private const int CardBlocks = 131072, StartAt = 2 * 1024 * 1024;     // eject once 2 MiB of the 64 MiB are in the file

    [Theory]
    [InlineData("arm64", "ff170000.mmc", "--noiommu", "platform", "sdhci-arasan", "adma2")]
    [InlineData("arm64", "ff170000.mmc", "--noiommu", "platform", "sdhci-arasan", "pio")]
    [InlineData("x86_64", "0000:00:01.0", "", "pci", "sdhci-pci", "adma2")]
    [InlineData("x86_64", "0000:00:01.0", "", "pci", "sdhci-pci", "pio")]
    public void A_card_ejected_mid_read_fails_the_read_as_removed_and_the_controller_goes_back(string arch, string device, string noIommu, string bus, string driver, string mode)
    {
        Rig.RequireRig(arch);
        var sys = $"/sys/bus/{bus}/devices/{device}";
        var hugePage = arch == "arm64" && mode == "adma2" ? "echo 1 > /proc/sys/vm/nr_hugepages; " : "";
        var steps = Rig.RunSteps(arch, Rig.Probe(arch), ["--eject-card-on", Eject],
            ("read", $"{hugePage}{Probe} read {device} --bind {noIommu} --count {CardBlocks} --mode {mode} --out /tmp/card.bin > /tmp/probe.log 2>&1 & pid=$!; " +
                     $"i=0; while [ $(stat -c %s /tmp/card.bin 2>/dev/null || echo 0) -lt {StartAt} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; " +
                     $"echo at-eject=$(stat -c %s /tmp/card.bin 2>/dev/null || echo none); echo t-eject=$(cut -d' ' -f1 /proc/uptime); echo {Eject}; " +
                     "wait $pid; echo rc=$?; echo t-exit=$(cut -d' ' -f1 /proc/uptime); cat /tmp/probe.log; " +
                     $"[ -e /tmp/card.bin ] && echo file=left || echo file=gone; echo records=$(ls /run/vfio-net 2>/dev/null | wc -l); readlink {sys}/driver"),
            ("after", $"{Probe} init {device} --bind {noIommu}; echo rc=$?; readlink {sys}/driver"));
        Rig.Log(output, steps);

        var read = steps["read"].Output;
        var values = Rig.Values(read);
        // The eject came mid-transfer: the file had its first 2 MiB and the read was still going.
        var atEject = long.Parse(values["at-eject"], CultureInfo.InvariantCulture);
        Assert.InRange(atEject, StartAt, (CardBlocks * 512L) - 1);
        Assert.Equal("1", values["rc"]);
        var seconds = double.Parse(values["t-exit"], CultureInfo.InvariantCulture) - double.Parse(values["t-eject"], CultureInfo.InvariantCulture);
        Assert.True(seconds < 10, $"the probe took {seconds:F1} s to give up after the eject");

        Assert.Matches(@$"sdhci-probe: {Regex.Escape(device)}: CMD18 \(READ_MULTIPLE_BLOCK\): card removed during the command \(Card Removal interrupt, Present State 0x24 Card Inserted reads 0\)", read);
        var removed = RemovedFile().Match(read);
        Assert.True(removed.Success, "the failure does not say the partial file was removed");
        Assert.InRange(long.Parse(removed.Groups[1].Value, CultureInfo.InvariantCulture), StartAt, (CardBlocks * 512L) - 1);
        Assert.DoesNotContain("Exception", read, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", read, StringComparison.Ordinal);
        Assert.DoesNotContain("within", read, StringComparison.Ordinal);           // not a timeout ("no Transfer Complete within ...")
        Assert.Contains("file=gone", read, StringComparison.Ordinal);
        Assert.Contains("records=0", read, StringComparison.Ordinal);
        Assert.EndsWith($"/drivers/{driver}", read.Trim(), StringComparison.Ordinal);

        // The card stays out: the next run finds the slot empty, and gives the controller back again.
        var after = steps["after"].Output;
        Assert.Contains("rc=1", after, StringComparison.Ordinal);
        Assert.Contains("No card: Present State (0x24) says no card is inserted", after, StringComparison.Ordinal);
        Assert.EndsWith($"/drivers/{driver}", after.Trim(), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"; the partial /tmp/card\.bin \((\d+) bytes\) was removed")]
    private static partial Regex RemovedFile();
}

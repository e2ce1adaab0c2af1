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
                     $"i=0; while [ -e /proc/$pid ] && [ $(stat -c %s /tmp/card.bin 2>/dev/null || echo 0) -lt {StartAt} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; " +
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

    /// <summary>
    /// The same mid-write: `write --in` streams a 64 MiB file to the card, and the card goes 2 s after the probe took
    /// the controller. QEMU drops the bytes written to a card without medium; the probe must fail as removed, in the
    /// CMD25 or in the CMD13 that waits for the card to finish programming, whichever was running.
    /// </summary>
    [Theory]
    [InlineData("arm64", "ff170000.mmc", "--noiommu", "platform", "sdhci-arasan")]
    [InlineData("x86_64", "0000:00:01.0", "", "pci", "sdhci-pci")]
    public void A_card_ejected_mid_write_fails_the_write_as_removed_and_the_controller_goes_back(string arch, string device, string noIommu, string bus, string driver)
    {
        Rig.RequireRig(arch);
        var sys = $"/sys/bus/{bus}/devices/{device}";
        var hugePage = arch == "arm64" ? "echo 1 > /proc/sys/vm/nr_hugepages; " : "";
        var steps = Rig.RunSteps(arch, Rig.Probe(arch), ["--eject-card-on", Eject],
            ("write", $"{hugePage}head -c {CardBlocks * 512L} /dev/zero > /tmp/in.bin; " +
                      $"{Probe} write {device} --bind {noIommu} --lba 0 --in /tmp/in.bin --mode adma2 --allow-write > /tmp/probe.log 2>&1 & pid=$!; " +
                      // No progress shows from outside (the input is read with pread, the kernel has no task I/O
                      // accounting): the card goes 2 s after the probe's binding record appears, 2 s into a write of
                      // at least 4.5 s (14 MB/s in both guests, bench/README.md). A card pulled too late shows as rc=0.
                      $"i=0; while [ -e /proc/$pid ] && [ ! -e /run/vfio-net/{device}.json ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; sleep 2; " +
                      $"echo t-eject=$(cut -d' ' -f1 /proc/uptime); echo {Eject}; " +
                      "wait $pid; echo rc=$?; echo t-exit=$(cut -d' ' -f1 /proc/uptime); cat /tmp/probe.log; " +
                      $"echo records=$(ls /run/vfio-net 2>/dev/null | wc -l); readlink {sys}/driver"),
            ("after", $"{Probe} init {device} --bind {noIommu}; echo rc=$?; readlink {sys}/driver"));
        Rig.Log(output, steps);

        var write = steps["write"].Output;
        var values = Rig.Values(write);
        Assert.Equal("1", values["rc"]);
        var seconds = double.Parse(values["t-exit"], CultureInfo.InvariantCulture) - double.Parse(values["t-eject"], CultureInfo.InvariantCulture);
        Assert.True(seconds < 10, $"the probe took {seconds:F1} s to give up after the eject");
        Assert.Matches(@$"sdhci-probe: {Regex.Escape(device)}: CMD(25 \(WRITE_MULTIPLE_BLOCK\)|13 \(SEND_STATUS\)): card removed during the command \(Card Removal interrupt, Present State 0x24 Card Inserted reads 0\)", write);
        Assert.DoesNotContain("Exception", write, StringComparison.Ordinal);
        Assert.DoesNotContain("within", write, StringComparison.Ordinal);
        Assert.Contains("records=0", write, StringComparison.Ordinal);
        Assert.EndsWith($"/drivers/{driver}", write.Trim(), StringComparison.Ordinal);

        var after = steps["after"].Output;
        Assert.Contains("rc=1", after, StringComparison.Ordinal);
        Assert.Contains("No card: Present State (0x24) says no card is inserted", after, StringComparison.Ordinal);
        Assert.EndsWith($"/drivers/{driver}", after.Trim(), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"; the partial /tmp/card\.bin \((\d+) bytes\) was removed")]
    private static partial Regex RemovedFile();
}

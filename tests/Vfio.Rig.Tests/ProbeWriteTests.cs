using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>sdhci-probe write (only with --allow-write) and Ctrl-C/SIGTERM handling, against QEMU's card: what
/// the probe wrote must be what the probe and the kernel's own driver read back, the neighbouring blocks must
/// still be the image's, and an interrupted read must leave the controller with its driver again.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeWriteTests(ITestOutputHelper output)
{
    private const int First = 1990, Written = 2000, Count = 40, Span = 60;
    private const string Pattern = "VFIO-NET WRITE TEST ";

    [Theory]
    [InlineData("arm64", "ff170000.mmc", "platform", "sdhci-arasan", "mmcblk1", "--noiommu", "pio")]
    [InlineData("x86_64", "0000:00:01.0", "pci", "sdhci-pci", "mmcblk0", "", "adma2")]
    [InlineData("arm64-virt", "0000:00:01.0", "pci", "sdhci-pci", "mmcblk0", "--iommufd", "adma2")]
    public void Written_blocks_read_back_through_the_probe_and_the_kernel_and_a_signal_leaves_things_clean(
        string arch, string device, string bus, string driver, string block, string extra, string mode)
    {
        Rig.RequireRig(arch);
        const string Probe = "/payload/sdhci-probe";
        var results = Rig.RunSteps(arch, Rig.Probe(arch),
            ("refused", Rig.Refused($"{Probe} write {device} --bind {extra} --lba {Written} --pattern X --count 1", $"/sys/bus/{bus}/devices/{device}")),
            ("write", $"{Probe} write {device} --bind {extra} --lba {Written} --count {Count} --pattern '{Pattern}' --mode {mode} --allow-write"),
            ("probe-read", $"{Probe} read {device} --bind {extra} --lba {First} --count {Span} --mode {mode} --out /tmp/back.bin && sha256sum < /tmp/back.bin"),
            ("kernel-read", $"sleep 1; dd if=/dev/{block} bs=512 skip={First} count={Span} iflag=direct 2>/dev/null | sha256sum"),
            ("signal", $"{Probe} read {device} --bind {extra} --lba 0 --count 131072 --out /tmp/signal.bin & p=$!; sleep 6; kill -TERM $p; wait $p; echo rc=$?; test -e /tmp/signal.bin && echo partial-file-left; readlink /sys/bus/{bus}/devices/{device}/driver; sleep 1; dd if=/dev/{block} bs=512 count=1 2>/dev/null | head -c 21; echo"));
        Rig.Log(output, results);

        var expected = File.ReadAllBytes(Rig.CardImage()).AsSpan(First * 512, Span * 512).ToArray();
        var unit = Encoding.ASCII.GetBytes(Pattern);
        for (var i = 0; i < Count * 512; i++)
        {
            expected[((Written - First) * 512) + (i % 512) + (i / 512 * 512)] = unit[(i % 512) % unit.Length];
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(expected));

        Rig.AssertRefused(results["refused"], 2, driver, "--allow-write"); // never bound: nothing was touched
        Assert.Equal(0, results["write"].ExitCode);
        Assert.Contains($"{Count} blocks ({Count * 512} bytes) written at LBA {Written}", results["write"].Output, StringComparison.Ordinal);
        Assert.Equal(0, results["probe-read"].ExitCode);
        Assert.Contains($"{hash}  -", results["probe-read"].Output, StringComparison.Ordinal);
        Assert.StartsWith(hash, results["kernel-read"].Output.Trim(), StringComparison.Ordinal);

        var signal = results["signal"].Output;
        Assert.Contains("interrupted; the controller is reset and given back to its driver", signal, StringComparison.Ordinal);
        Assert.Contains("rc=143", signal, StringComparison.Ordinal); // 128 + SIGTERM
        Assert.DoesNotContain("partial-file-left", signal, StringComparison.Ordinal);
        Assert.Contains($"/drivers/{driver}\n", signal, StringComparison.Ordinal);
        Assert.EndsWith("VFIO-NET LBA 00000000", signal.TrimEnd(), StringComparison.Ordinal); // the kernel reads the card again
    }
}

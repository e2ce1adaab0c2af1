using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>Every SD card model QEMU 7.2 has (sd-card.spec_version 1, 2 and 3: physical layer 1.10, 2.00
/// and 3.01): the probe brings each up, names what it is and reads it equal to the image.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeCardModelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("arm64", "ff170000.mmc", "--noiommu", "1", "StandardCapacityV1")]
    [InlineData("arm64", "ff170000.mmc", "--noiommu", "3", "StandardCapacity")]
    [InlineData("x86_64", "0000:00:01.0", "", "1", "StandardCapacityV1")]
    [InlineData("x86_64", "0000:00:01.0", "", "3", "StandardCapacity")]
    public void Each_card_model_comes_up_and_reads_the_image(string arch, string device, string extra, string spec, string type)
    {
        Rig.RequireRig(arch);
        const int Lba = 777, Count = 40;
        var probe = "/payload/sdhci-probe";
        var steps = Rig.RunSteps(arch, Rig.Probe(arch), ["--card-spec", spec],
            ("init", $"{probe} init {device} --bind {extra} --json"),
            ("read", $"{probe} read {device} --bind {extra} --lba {Lba} --count {Count} --json --out /tmp/m.bin && sha256sum < /tmp/m.bin"));
        Rig.Log(output, steps);

        Assert.Equal(0, steps["init"].ExitCode);
        Assert.Contains($"\"type\": \"{type}\"", steps["init"].Output, StringComparison.Ordinal);
        Assert.Contains("\"blockAddressing\": false", steps["init"].Output, StringComparison.Ordinal);
        Rig.AssertProbeRead(steps["read"], Lba, Count);
    }
}

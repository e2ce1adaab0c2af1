using System.Collections.Concurrent;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The API guide's examples (examples/Vfio.Examples) run against the real device: vfio-pci with the
/// type1 IOMMU on x86_64, and the same plus the iommufd back-end behind the SMMUv3 on arm64-virt; DMA by
/// physical address on the ZynqMP guest, which has no IOMMU.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ExampleTests(ITestOutputHelper output)
{
    private const string Device = "0000:00:01.0";
    private static readonly ConcurrentDictionary<string, Lazy<string>> Published = new();

    [Theory]
    [InlineData("x86_64")]
    [InlineData("arm64-virt")]
    public void Every_example_of_the_API_guide_runs_against_the_SDHCI(string arch)
    {
        Rig.RequireRig(arch);
        var payload = Publish(Rig.RidOf(arch));

        var (exit, text) = Rig.Run(arch, $"/payload/vfio-examples all {Device}", payload);
        output.WriteLine(text);

        Assert.Equal(0, exit);
        Assert.Contains("0000:00:01.0: sdhci-pci -> vfio-pci, /dev/vfio/", text, StringComparison.Ordinal);
        Assert.Contains("0000:00:01.0: PCI, 9 regions, 5 IRQ indexes, IOMMU Type1v2", text, StringComparison.Ordinal);
        Assert.Contains("  region 0: 0x100 bytes, mmap True", text, StringComparison.Ordinal);
        Assert.Contains("version 0x2401, capabilities 0x057834b4", text, StringComparison.Ordinal);
        Assert.Matches(@"response 0: 0x[0-9a-f]{8}  response 1: 0x[0-9a-f]{8}  response 2: 0x[0-9a-f]{8}  response 3: 0x[0-9a-f]{8}", text);
        Assert.Contains("interrupt: status 0x0001", text, StringComparison.Ordinal);
        Assert.Contains("async interrupt: fired 1 time(s)", text, StringComparison.Ordinal);
        Assert.Matches(@"64 KiB at IOVA 0x[0-9a-f]+", text);
        Assert.Contains("find device on no-such-device: ENODEV", text, StringComparison.Ordinal);
        if (arch == "arm64-virt")
        {
            Assert.Matches(@"iommufd: version 0x2401, 4 KiB at IOVA 0x[0-9a-f]+", text);
        }
        else
        {
            Assert.Contains("iommufd: not available", text, StringComparison.Ordinal); // Debian's 6.1 has no IOMMUFD
        }
    }

    [Fact]
    public void The_physical_DMA_example_gets_a_huge_pages_address_for_the_no_IOMMU_controller()
    {
        Rig.RequireRig("arm64");
        var payload = Publish("linux-arm64");

        var (exit, text) = Rig.Run("arm64", "echo 1 > /proc/sys/vm/nr_hugepages; rig-bind-vfio ff170000.mmc >/dev/null && /payload/vfio-examples physical-dma ff170000.mmc", payload);
        output.WriteLine(text);

        Assert.Equal(0, exit);
        var match = System.Text.RegularExpressions.Regex.Match(text, "2 MiB at physical address 0x([0-9a-f]+)");
        Assert.True(match.Success, "no physical address printed");
        var address = Convert.ToUInt64(match.Groups[1].Value, 16);
        Assert.Equal(0UL, address % (2 << 20)); // a huge page starts on a 2 MiB boundary
        Assert.InRange(address, 1UL << 21, (1UL << 30) - (2 << 20)); // inside the guest's 1 GiB of RAM at 0 (not page 0)
    }

    private static string Publish(string rid) => Published.GetOrAdd(rid, r => new Lazy<string>(() =>
    {
        var dir = Path.Combine(Repository.Root, "artifacts", "examples", r);
        var result = Repository.Run("dotnet", ["publish", "examples/Vfio.Examples", "-r", r, "-c", "Release", "-o", dir, "--nologo", "-v", "q"]);
        Assert.True(result.ExitCode == 0, $"publishing the examples for {r} failed:\n{result.Stdout}\n{result.Stderr}");
        return dir;
    })).Value;
}

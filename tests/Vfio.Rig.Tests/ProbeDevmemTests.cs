using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The register dump against an oracle no one here wrote: busybox devmem reading the same physical
/// registers through /dev/mem in the same boot, while VFIO owns the device: ZynqMP SD1 at 0xff170000
/// (vfio-platform), and the sdhci-pci BAR0 at the address the kernel gave it (vfio-pci, after the probe
/// closed the device, so vfio-pci has released the BAR and IO_STRICT_DEVMEM lets devmem map it).</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeDevmemTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("arm64", "ff170000.mmc", "--noiommu", 0x100)]
    [InlineData("x86_64", "0000:00:01.0", "", 0x100)]
    [InlineData("arm64-virt", "0000:00:01.0", "", 0x100)]
    public void Every_register_of_the_dump_equals_what_devmem_reads(string arch, string device, string extra, int length)
    {
        Rig.RequireRig(arch);
        var pci = device.Contains(':', StringComparison.Ordinal);
        // 32-bit words of the standard block (and the Arasan register on the ZynqMP), skipping the buffer data
        // port (0x20), which pops the FIFO when read; the dump never reads it either.
        var words = Enumerable.Range(0, length / 4).Select(i => i * 4).Where(o => o != 0x20);
        if (!pci)
            words = words.Append(0x78).Distinct();
        var offsets = words.ToArray();
        // The base: the ZynqMP's fixed address, or BAR0's start from sysfs (first field of the first line of resource).
        var setBase = pci ? $"base=$(($(head -n1 /sys/bus/pci/devices/{device}/resource | cut -d' ' -f1)))" : "base=$((0xff170000))";
        var devmem = setBase + "; echo \"base $base\"; " +
                     string.Join("; ", offsets.Select(o => $"echo \"w {o} $(devmem $(printf 0x%x $((base + {o}))) 32)\""));
        var results = Rig.RunSteps(arch, Rig.Probe(arch),
            ("dump", $"rig-bind-vfio {device} >/dev/null && /payload/sdhci-probe dump {device} {extra} --json"),
            ("devmem", devmem));
        output.WriteLine(results["dump"].Output);
        output.WriteLine(results["devmem"].Output);
        Assert.Equal(0, results["dump"].ExitCode);

        var word = results["devmem"].Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .Where(p => p.Length == 3 && p[0] == "w")
            .ToDictionary(p => int.Parse(p[1], CultureInfo.InvariantCulture), p => Convert.ToUInt32(p[2], 16));
        Assert.Equal(offsets.Length, word.Count);
        Assert.DoesNotContain(word.Values, v => v == 0xFFFF_FFFF);                // a BAR that does not decode reads all ones

        using var json = JsonDocument.Parse(results["dump"].Output);
        var compared = 0;
        foreach (var register in json.RootElement.GetProperty("registers").EnumerateArray())
        {
            var offset = register.GetProperty("offset").GetInt32();
            var width = register.GetProperty("width").GetInt32();
            if (register.GetProperty("value").ValueKind == JsonValueKind.Null)
            {
                continue; // not read by the dump: the data port
            }

            var value = register.GetProperty("value").GetUInt64();
            var name = register.GetProperty("name").GetString();
            ulong fromDevmem = width == 8
                ? word[offset] | ((ulong)word[offset + 4] << 32)
                : (word[offset & ~3] >> ((offset & 3) * 8)) & (width == 4 ? 0xFFFF_FFFFu : (1u << (width * 8)) - 1);
            Assert.True(value == fromDevmem, $"{name} at 0x{offset:x2} ({width} bytes): dump 0x{value:x}, devmem 0x{fromDevmem:x}");
            compared++;
        }

        Assert.True(compared >= 40, $"only {compared} registers compared");
        var capabilities = pci ? 0x0578_34B4UL : 0x2807_37EC_6481UL;                  // and both are the known capabilities
        Assert.Equal(capabilities, word[0x40] | ((ulong)word[0x44] << 32));
    }
}

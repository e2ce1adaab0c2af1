using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The register dump against an oracle no one here wrote: busybox devmem reading the same physical
/// registers (ZynqMP SD1 at 0xff170000) through /dev/mem in the same boot, while vfio-platform owns the device.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeDevmemTests(ITestOutputHelper output)
{
    private const long Base = 0xff170000;

    [Fact]
    public void Every_register_of_the_dump_equals_what_devmem_reads()
    {
        Rig.RequireRig("arm64");
        // 32-bit words of the standard block and the Arasan register, skipping the buffer data port (0x20),
        // which pops the FIFO when read; the dump never reads it either.
        var words = Enumerable.Range(0, 0x100 / 4).Select(i => i * 4).Where(o => o != 0x20).Append(0x78).Distinct().ToArray();
        var devmem = string.Join("; ", words.Select(o => $"echo \"w {o} $(devmem 0x{Base + o:x} 32)\""));
        var results = Rig.RunSteps("arm64", Rig.Probe("arm64"),
            ("dump", "rig-bind-vfio ff170000.mmc >/dev/null && /payload/sdhci-probe dump ff170000.mmc --noiommu --json"),
            ("devmem", devmem));
        output.WriteLine(results["dump"].Output);
        output.WriteLine(results["devmem"].Output);
        Assert.Equal(0, results["dump"].ExitCode);

        var word = results["devmem"].Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .Where(p => p.Length == 3 && p[0] == "w")
            .ToDictionary(p => int.Parse(p[1], CultureInfo.InvariantCulture), p => Convert.ToUInt32(p[2], 16));
        Assert.Equal(words.Length, word.Count);

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
        Assert.Equal(0x2807_37EC_6481UL, word[0x40] | ((ulong)word[0x44] << 32)); // and both are the known capabilities
    }
}

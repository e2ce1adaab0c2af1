using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The safety scenarios of the PCI guests (behind an IOMMU): a mounted card refused, an unsafe module parameter turned
/// on for a binding and put back after it, a write killed with SIGKILL mid-transfer and the device given
/// back from its record, an --out that is a symlink refused before the device is touched. After each:
/// the driver, driver_override, the parameter, the records, and the card's bytes read through the
/// kernel: outside the written range exactly the image's, inside it each block either the image's or
/// the written one.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbePciSafetyTests(ITestOutputHelper output)
{
    private const string Probe = "/payload/sdhci-probe", Device = "0000:00:01.0", Sys = "/sys/bus/pci/devices/0000:00:01.0";
    private const string Parameter = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
    private const int First = 3000, Count = 32768, Margin = 64; // 16 MiB: seconds of writing in either guest, killed 0.2-1.1 s in
    private const string Pattern = "KILLED-MID-WRITE";

    /// <summary>The driver, override, parameter and number of records, one key=value line each.</summary>
    private const string State =
        $"echo driver=$(basename $(readlink {Sys}/driver)); echo override=$(cat {Sys}/driver_override); " +
        $"echo param=$(cat {Parameter}); echo records=$(ls /run/vfio-net 2>/dev/null | wc -l)";

    [Theory]
    [InlineData("x86_64")]
    [InlineData("arm64-virt")]
    public void Parameters_come_back_a_killed_write_is_undone_from_its_record_and_the_card_holds_old_or_new_blocks(string arch)
    {
        Rig.RequireRig(arch);
        // One pattern block as the probe writes it (the text repeated from the block's start), hashed.
        var patternBlock = "p=''; while [ ${#p} -lt 512 ]; do p=\"${p}" + Pattern + "\"; done; printf %s \"$p\" | head -c 512 > /tmp/pattern.bin";
        var steps = Rig.RunSteps(arch, Rig.Probe(arch),
            ("before", $"modprobe vfio_iommu_type1 2>/dev/null; {State}"),
            ("bind", $"{Probe} bind {Device} --unsafe-interrupts && {State} && {Probe} status"),
            ("unbind", $"{Probe} unbind {Device} --restore && {State}"),
            ("symlink-out", $"ln -s /etc/passwd /tmp/link && cp /etc/passwd /tmp/passwd.before && " +
                            $"{Probe} read {Device} --bind --count 1 --out /tmp/link; echo rc=$?; cmp /etc/passwd /tmp/passwd.before && echo passwd-unchanged; {State}"),
            ("kill-write", $"{Probe} write {Device} --bind --allow-write --lba {First} --count {Count} --pattern {Pattern} >/tmp/write.log 2>&1 & pid=$!; " +
                           "i=0; while [ ! -e /run/vfio-net/0000:00:01.0.json ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; d=$((RANDOM % 10 + 2)); sleep $((d / 10)).$((d % 10)); echo kill-after-tenths=$d; kill -9 $pid && echo killed; cat /tmp/write.log; wait $pid 2>/dev/null; " +
                           $"{State}; {Probe} status {Device}; {Probe} unbind {Device} --restore; {State}"),
            // Blocks are written in order: find the first one that is not the pattern (a binary search,
            // 15 reads), then hash what comes before it and what comes after, for the host to check.
            // sdhci-pci finds the card a moment after it takes the controller back: wait for the node.
            ("card", $"i=0; while [ ! -e /dev/mmcblk0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; {patternBlock}; " +
                     $"echo head=$(dd if=/dev/mmcblk0 bs=512 skip={First - Margin} count={Margin} 2>/dev/null | sha256sum | cut -d' ' -f1); " +
                     $"echo tail=$(dd if=/dev/mmcblk0 bs=512 skip={First + Count} count={Margin} 2>/dev/null | sha256sum | cut -d' ' -f1); " +
                     $"lo=0; hi={Count}; while [ $lo -lt $hi ]; do mid=$(((lo + hi) / 2)); " +
                     $"if dd if=/dev/mmcblk0 bs=512 skip=$(({First} + mid)) count=1 2>/dev/null | cmp -s - /tmp/pattern.bin; then lo=$((mid + 1)); else hi=$mid; fi; done; " +
                     $"echo written=$lo; echo new=$(dd if=/dev/mmcblk0 bs=512 skip={First} count=$lo 2>/dev/null | sha256sum | cut -d' ' -f1); " +
                     $"echo old=$(dd if=/dev/mmcblk0 bs=512 skip=$(({First} + lo)) count=$(({Count} - lo)) 2>/dev/null | sha256sum | cut -d' ' -f1)"));
        Rig.Log(output, steps);

        Assert.Equal("N", Rig.Values(steps["before"].Output)["param"]);
        var bound = Rig.Values(steps["bind"].Output);
        Assert.Equal(("vfio-pci", "vfio-pci", "Y", "1"), (bound["driver"], bound["override"], bound["param"], bound["records"]));
        Assert.Contains("vfio_iommu_type1.allow_unsafe_interrupts -> N", steps["bind"].Output, StringComparison.Ordinal);
        AssertAsFound(steps["unbind"].Output, "unbind");

        Assert.Contains("rc=2", steps["symlink-out"].Output, StringComparison.Ordinal);
        Assert.Contains("passwd-unchanged", steps["symlink-out"].Output, StringComparison.Ordinal);
        AssertAsFound(steps["symlink-out"].Output, "symlink --out");

        var killed = steps["kill-write"].Output;
        Assert.Contains("killed", killed, StringComparison.Ordinal);
        Assert.Contains("left by pid", killed, StringComparison.Ordinal); // killed while it held the device: only the record knew
        AssertAsFound(killed, "kill -9 of write");

        var card = Rig.Values(steps["card"].Output);
        Assert.Equal(Rig.CardHash(First - Margin, Margin), card["head"]);
        Assert.Equal(Rig.CardHash(First + Count, Margin), card["tail"]);
        var written = int.Parse(card["written"], System.Globalization.CultureInfo.InvariantCulture);
        var pattern = System.Text.Encoding.ASCII.GetBytes(Pattern);
        var block = Enumerable.Range(0, 512).Select(i => pattern[i % pattern.Length]).ToArray();
        var newBlocks = Enumerable.Repeat(block, written).SelectMany(b => b).ToArray();
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(newBlocks)), card["new"]);
        Assert.Equal(Rig.CardHash(First + written, Count - written), card["old"]);
        output.WriteLine($"{written} of {Count} blocks were written before the kill");
    }

    [Theory]
    [InlineData("x86_64")]
    [InlineData("arm64-virt")]
    public void A_mounted_card_is_not_taken_by_bind_or_by_a_bind_for_one_command(string arch)
    {
        Rig.RequireRig(arch);
        var steps = Rig.RunSteps(arch, Rig.Probe(arch),
            ("prepare", "mke2fs -q -F /dev/mmcblk0 && mkdir -p /mnt/card && mount -t ext2 -o ro /dev/mmcblk0 /mnt/card && " +
                        "echo before=$(sha256sum < /dev/mmcblk0 | cut -d' ' -f1) && echo number=$(cat /sys/class/block/mmcblk0/dev)"),
            ("bind", $"{Probe} bind {Device}; echo rc=$?; {State}"),
            ("read", $"{Probe} read {Device} --bind --count 1 --out /tmp/x.bin; echo rc=$?; test -e /tmp/x.bin && echo out-left; {State}"),
            ("after", "umount /mnt/card && echo after=$(sha256sum < /dev/mmcblk0 | cut -d' ' -f1)"));
        Rig.Log(output, steps);

        var prepared = Rig.Values(steps["prepare"].Output);
        var card = $"mmcblk0 ({prepared["number"]}) mounted on /mnt/card";
        foreach (var refused in new[] { "bind", "read" })
        {
            Assert.Contains("rc=4", steps[refused].Output, StringComparison.Ordinal);
            Assert.Contains(card, steps[refused].Output, StringComparison.Ordinal);
            Assert.DoesNotContain("out-left", steps[refused].Output, StringComparison.Ordinal);
            AssertAsFound(steps[refused].Output, refused);
        }

        Assert.Equal(prepared["before"], Rig.Values(steps["after"].Output)["after"]);
    }

    /// <summary>The last key=value lines say: sdhci-pci, no override, the parameter off, no record.</summary>
    private static void AssertAsFound(string text, string why)
    {
        var state = Rig.Values(text);
        Assert.True(state["driver"] == "sdhci-pci", $"{why}: driver {state["driver"]}");
        Assert.True(state["override"] is "(null)" or "", $"{why}: driver_override {state["override"]}");
        Assert.True(state["param"] == "N", $"{why}: allow_unsafe_interrupts {state["param"]}");
        Assert.True(state["records"] == "0", $"{why}: {state["records"]} records left");
    }
}

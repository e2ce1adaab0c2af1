using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>sdhci-probe never takes a card that is in use, whatever the node it was mounted through,
/// never takes a device that is not an SD host controller, and keeps a record of every binding until
/// the device is given back. ZynqMP guest: our kernel has ext2 and swap; the card is mmcblk1.
/// After every refusal: the driver is still sdhci-arasan, no record is left, the card's bytes (read
/// through the kernel driver) are unchanged.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ProbeSafetyTests(ITestOutputHelper output)
{
    private const string Probe = "/payload/sdhci-probe", Device = "ff170000.mmc", Sys = "/sys/bus/platform/devices/ff170000.mmc";

    /// <summary>sdhci-arasan finds the card a moment after it takes the controller back (the mmc core
    /// scans for it in the background): wait up to 10 s for the node before using the card.</summary>
    private const string WaitForCard = "i=0; while [ ! -e /dev/mmcblk1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done";

    /// <summary>A refused probe command, then its exit code, the driver and how many records exist.</summary>
    private static string Refused(string command) => $"{Rig.Refused(command, Sys)}; echo records=$(ls /run/vfio-net 2>/dev/null | wc -l)";

    [Fact]
    public void A_card_in_use_is_never_taken_and_every_binding_is_recorded_until_given_back()
    {
        Rig.RequireRig("arm64");
        var steps = Rig.RunSteps("arm64", Rig.Probe("arm64"),
            // An ext2 file system on the card (QEMU's snapshot=on keeps the image as it was), its bytes
            // hashed through the kernel, then mounted read-only so that mounting writes nothing.
            ("prepare", "mke2fs -q -F /dev/mmcblk1 && mkdir -p /mnt/card && mount -t ext2 /dev/mmcblk1 /mnt/card && echo precious > /mnt/card/file" +
                        " && umount /mnt/card && echo before=$(sha256sum < /dev/mmcblk1) && mount -t ext2 -o ro /dev/mmcblk1 /mnt/card" +
                        " && echo number=$(cat /sys/class/block/mmcblk1/dev)"),
            ("bind-mounted", Refused($"{Probe} bind {Device} --noiommu")),
            ("read-mounted", Refused($"{Probe} read {Device} --bind --noiommu --count 1 --out /tmp/x.bin")),
            ("other-node", $"umount /mnt/card && mknod /dev/othercard b $(tr ':' ' ' < /sys/class/block/mmcblk1/dev) && mount -t ext2 -o ro /dev/othercard /mnt/card && " +
                           Refused($"{Probe} bind {Device} --noiommu")),
            ("after-mounts", "cat /mnt/card/file && umount /mnt/card && echo after=$(sha256sum < /dev/mmcblk1)"),
            // SIGKILL mid-command: nothing of the process runs, so only the record can say what to undo.
            ("kill-read", Killed($"{Probe} read {Device} --bind --noiommu --count 60000 --out /tmp/k.bin")),
            ("kill-irq", Killed($"{Probe} irq {Device} --bind --noiommu --count 100000000")),
            ("after-kills", $"{WaitForCard}; echo after=$(sha256sum < /dev/mmcblk1)"),
            ("not-sd", Rig.Refused($"{Probe} bind ff000000.serial --noiommu", "/sys/bus/platform/devices/ff000000.serial")),
            ("bind", $"{Probe} bind {Device} --noiommu && ls /run/vfio-net && {Probe} status"),
            ("unbind", $"{Probe} unbind {Device} --restore && echo records=$(ls /run/vfio-net 2>/dev/null | wc -l) && readlink {Sys}/driver"),
            // Another process holds the device: unbind says who and leaves it, instead of waiting in the kernel.
            ("held", $"{Probe} bind {Device} --noiommu >/dev/null && ({Probe} irq {Device} --noiommu --count 100000000 >/dev/null 2>&1 &); sleep 3; " +
                     $"{Probe} unbind {Device} --restore; echo rc=$?; readlink {Sys}/driver; kill $(pidof sdhci-probe); sleep 1; " +
                     $"{Probe} unbind {Device} --restore && readlink {Sys}/driver"),
            ("swap", $"{WaitForCard}; mkswap /dev/mmcblk1 >/dev/null && swapon /dev/mmcblk1 && " + Refused($"{Probe} bind {Device} --noiommu")),
            ("force", $"{Probe} bind {Device} --noiommu --force; echo rc=$?; swapoff /dev/mmcblk1 2>/dev/null; {Probe} unbind {Device} --restore; readlink {Sys}/driver"));
        Rig.Log(output, steps);

        Assert.Equal(0, steps["prepare"].ExitCode);
        var before = Rig.Values(steps["prepare"].Output)["before"];
        var card = $"mmcblk1 ({Rig.Values(steps["prepare"].Output)["number"]})"; // matched by number, so printed with it

        Rig.AssertRefused(Trim(steps["bind-mounted"]), 4, "sdhci-arasan", "in use", $"{card} mounted on /mnt/card");
        Assert.Contains("records=0", steps["bind-mounted"].Output, StringComparison.Ordinal);
        Rig.AssertRefused(Trim(steps["read-mounted"]), 4, "sdhci-arasan", $"{card} mounted on /mnt/card");
        Assert.Contains("records=0", steps["read-mounted"].Output, StringComparison.Ordinal);
        Rig.AssertRefused(Trim(steps["other-node"]), 4, "sdhci-arasan", $"{card} mounted on /mnt/card");

        Assert.Equal(0, steps["after-mounts"].ExitCode);
        Assert.Contains("precious", steps["after-mounts"].Output, StringComparison.Ordinal);
        Assert.Equal(before, Rig.Values(steps["after-mounts"].Output)["after"]);

        foreach (var killed in new[] { "kill-read", "kill-irq" })
        {
            var text = steps[killed].Output;
            Assert.Contains("left by pid", text, StringComparison.Ordinal);  // status saw the dead owner's record
            Assert.Contains("was sdhci-arasan", text, StringComparison.Ordinal);
            Assert.Contains("records=0", text, StringComparison.Ordinal);
            Assert.EndsWith("/drivers/sdhci-arasan", text.Trim(), StringComparison.Ordinal);
        }

        Assert.Equal(before, Rig.Values(steps["after-kills"].Output)["after"]);

        Rig.AssertRefused(steps["not-sd"], 1, "xuartps", "Not an SD host controller");

        Assert.Equal(0, steps["bind"].ExitCode);
        Assert.Contains($"{Device}.json", steps["bind"].Output, StringComparison.Ordinal);
        Assert.Contains("was sdhci-arasan; kept bound", steps["bind"].Output, StringComparison.Ordinal);
        Assert.Contains("probe -> sdhci-arasan", steps["bind"].Output, StringComparison.Ordinal);
        Assert.Equal(0, steps["unbind"].ExitCode);
        Assert.Contains("records=0", steps["unbind"].Output, StringComparison.Ordinal);
        Assert.EndsWith("/drivers/sdhci-arasan", steps["unbind"].Output.Trim(), StringComparison.Ordinal);

        var held = steps["held"].Output;
        Assert.Contains("rc=4", held, StringComparison.Ordinal);
        Assert.Matches(@"in use: pid \d+ \(sdhci-probe\)", held);
        Assert.Contains("/drivers/vfio-platform\n", held, StringComparison.Ordinal); // left as it was while held
        Assert.EndsWith("/drivers/sdhci-arasan", held.Trim(), StringComparison.Ordinal); // given back once it was let go

        Rig.AssertRefused(Trim(steps["swap"]), 4, "sdhci-arasan", $"{card} is swap");

        Assert.Contains("rc=0", steps["force"].Output, StringComparison.Ordinal);
        Assert.Contains($"--force: taken although {card} is swap", steps["force"].Output, StringComparison.Ordinal);
        Assert.EndsWith("/drivers/sdhci-arasan", steps["force"].Output.Trim(), StringComparison.Ordinal);
    }

    /// <summary>Starts <paramref name="command"/>, kills it with SIGKILL at a random point once its record
    /// exists (mid-bind, mid-bring-up or mid-transfer), shows the status, gives the device back from the record, and
    /// prints the number of records left and the driver.</summary>
    private static string Killed(string command) =>
        $"{command} >/dev/null 2>&1 & pid=$!; i=0; while [ ! -e /run/vfio-net/{Device}.json ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; " +
        // A random point from the record's appearance (before any sysfs write) to 1.5 s into the command.
        "d=$((RANDOM % 16)); sleep $((d / 10)).$((d % 10)); echo kill-after-tenths=$d; " +
        $"kill -9 $pid; wait $pid 2>/dev/null; readlink {Sys}/driver; {Probe} status {Device}; {Probe} unbind {Device} --restore; " +
        $"echo records=$(ls /run/vfio-net 2>/dev/null | wc -l); readlink {Sys}/driver";

    /// <summary>A <see cref="Refused"/> step without its records line, as <see cref="Rig.AssertRefused"/> reads it.</summary>
    private static (int ExitCode, string Output) Trim((int ExitCode, string Output) step) =>
        (step.ExitCode, step.Output[..step.Output.LastIndexOf("records=", StringComparison.Ordinal)]);
}

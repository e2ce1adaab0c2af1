using Vfio.Native;
using Vfio.Platform.Preparation;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>A device whose card is in use is not taken: mounted (matched by device number, whatever the
/// node is called), swap, held by another block device, or refused an exclusive open by the kernel.</summary>
public sealed class BlockDeviceInUseTests
{
    private static FakeSysfsTree TreeWithCard()
    {
        var tree = new FakeSysfsTree();
        tree.AddCard();
        return tree;
    }

    private static void AssertRefusedUntouched(FakeSysfsTree tree, string expected)
    {
        var error = Assert.Throws<VfioDeviceBusyException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options));

        Assert.Equal("EBUSY", error.ErrnoName);
        Assert.Contains(error.Users, u => u.Contains(expected, StringComparison.Ordinal));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(tree.Writes);
        Assert.False(File.Exists(tree.RecordPath));
        Assert.Equal("sdhci-arasan", tree.BoundDriver);
    }

    [Fact]
    public void A_card_that_is_not_in_use_is_taken()
    {
        using var tree = TreeWithCard();

        using var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options);

        Assert.Equal("vfio-platform", tree.BoundDriver);
        Assert.Empty(binding.OverriddenUses);
    }

    [Fact]
    public void The_blocks_below_the_controller_are_found_with_their_numbers()
    {
        using var tree = TreeWithCard();

        var blocks = DeviceUsers.BlockDevicesBelow(tree, tree.DevicePath);

        Assert.Equal(["mmcblk0 179:0", "mmcblk0p1 179:8"], blocks.Select(b => $"{b.Name} {b.Number}").Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("/dev/root")]        // the root file system as the kernel names it
    [InlineData("/dev/my-card")]     // a node someone made with mknod
    [InlineData("/dev/mmcblk0p1")]
    public void A_mounted_partition_is_found_by_its_number_whatever_its_node_is_called(string node)
    {
        using var tree = TreeWithCard();
        File.AppendAllText(Path.Combine(tree.ProcRoot, "self", "mountinfo"), $"30 1 179:8 / /media/my\\040card rw,relatime - ext2 {node} rw\n");

        AssertRefusedUntouched(tree, "mmcblk0p1 (179:8) mounted on /media/my card");
    }

    [Fact]
    public void A_whole_card_mounted_without_partitions_is_found()
    {
        using var tree = TreeWithCard();
        File.AppendAllText(Path.Combine(tree.ProcRoot, "self", "mountinfo"), "30 1 179:0 / / rw - ext2 /dev/root rw\n");

        AssertRefusedUntouched(tree, "mmcblk0 (179:0) mounted on /");
    }

    [Fact]
    public void Another_disk_with_the_same_minor_is_not_taken_for_the_card()
    {
        using var tree = TreeWithCard();
        File.AppendAllText(Path.Combine(tree.ProcRoot, "self", "mountinfo"), "30 1 8:0 / /data rw - ext4 /dev/sda rw\n30 1 179:80 / /x rw - ext4 /dev/mmcblk2 rw\n");

        using var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options);

        Assert.Equal("vfio-platform", tree.BoundDriver);
    }

    [Fact]
    public void A_swap_partition_is_found()
    {
        using var tree = TreeWithCard();
        File.AppendAllText(Path.Combine(tree.ProcRoot, "swaps"), $"{Path.Combine(tree.DevRoot, "mmcblk0p1")}\tpartition\t65532\t0\t-2\n");

        AssertRefusedUntouched(tree, "mmcblk0p1 (179:8) is swap");
    }

    [Fact]
    public void A_holder_is_found()
    {
        using var tree = TreeWithCard();
        var holders = Path.Combine(tree.DevicePath, "mmc_host", "mmc0", "mmc0:0001", "block", "mmcblk0", "mmcblk0p1", "holders");
        Directory.CreateDirectory(Path.Combine(holders, "dm-0"));

        AssertRefusedUntouched(tree, "mmcblk0p1 (179:8) is held by dm-0");
    }

    [Fact]
    public void A_card_the_kernel_refuses_an_exclusive_open_is_in_use_even_when_nothing_here_names_it()
    {
        using var tree = TreeWithCard();
        tree.OpenResults["/mmcblk0"] = -Errno.EBUSY; // mounted in another mount namespace, say

        AssertRefusedUntouched(tree, "mmcblk0 (179:0) is busy");
    }

    [Fact]
    public void Turning_the_check_off_takes_the_card_and_says_what_was_overridden()
    {
        using var tree = TreeWithCard();
        File.AppendAllText(Path.Combine(tree.ProcRoot, "self", "mountinfo"), "30 1 179:8 / /mnt rw - ext2 /dev/mmcblk0p1 rw\n");

        using var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { RefuseBlockDevicesInUse = false });

        Assert.Equal("vfio-platform", tree.BoundDriver);
        Assert.Equal(["mmcblk0p1 (179:8) mounted on /mnt"], binding.OverriddenUses);
    }
}

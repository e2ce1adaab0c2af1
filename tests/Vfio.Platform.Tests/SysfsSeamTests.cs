using Vfio.Native;
using Vfio.Platform.Discovery;
using Vfio.Platform.Preparation;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>Every sysfs and procfs look-up goes through <see cref="ISysfs"/>: the group of a device, a
/// group's members, a device's cdev and its users are read from the tree a test hands over, never from
/// the host's <c>/sys</c> and <c>/proc</c>.</summary>
public sealed class SysfsSeamTests
{
    /// <summary>The tree's device bound to vfio-platform in IOMMU group 7 (the group <see cref="FakeKernel"/> opens).</summary>
    private static FakeSysfsTree TreeInGroup7()
    {
        var tree = new FakeSysfsTree(boundTo: null);
        var group = Path.Combine(tree.SysfsRoot, "kernel", "iommu_groups", "7");
        Directory.CreateDirectory(Path.Combine(group, "devices"));
        File.CreateSymbolicLink(Path.Combine(tree.DevicePath, "iommu_group"), group);
        File.CreateSymbolicLink(Path.Combine(tree.DevicePath, "driver"), Path.Combine(tree.SysfsRoot, "bus", "platform", "drivers", "vfio-platform"));
        File.CreateSymbolicLink(Path.Combine(group, "devices", FakeSysfsTree.Device), tree.DevicePath);
        return tree;
    }

    /// <summary>The device bound to VFIO for good, its group node held open by pid 31337; no writes recorded yet.</summary>
    private static FakeSysfsTree BoundAndHeldBy31337()
    {
        var tree = new FakeSysfsTree();
        VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { RestoreOnDispose = false });
        tree.AddProcess(31337, startTime: 5, Path.Combine(tree.DevRoot, "vfio", "noiommu-0"));
        tree.Writes.Clear();
        return tree;
    }

    [Fact]
    public void OpenGroupOf_finds_the_group_under_the_containers_sysfs_root()
    {
        using var tree = TreeInGroup7();
        var kernel = new FakeKernel();
        using var container = VfioContainer.Open(kernel.Sys, new VfioContainerOptions { GroupDirectory = "/dev/vfio", SysfsRoot = tree.SysfsRoot });

        using var group = container.OpenGroupOf(FakeSysfsTree.Device);

        Assert.Equal("/dev/vfio/7", group.Path);
        Assert.Equal(7, VfioGroup.GroupNumberOf(FakeSysfsTree.Device, tree.SysfsRoot));
    }

    [Fact]
    public void A_device_on_no_bus_of_the_tree_is_ENODEV_naming_the_tree()
    {
        using var tree = TreeInGroup7();
        var kernel = new FakeKernel();
        using var container = VfioContainer.Open(kernel.Sys, new VfioContainerOptions { GroupDirectory = "/dev/vfio" }, tree);

        var error = Assert.Throws<VfioException>(() => container.OpenGroupOf("ff160000.mmc"));

        Assert.Equal("ENODEV", error.ErrnoName);
        Assert.Contains($"under {tree.SysfsRoot}/bus/{{platform,pci,amba}}/devices", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_that_is_not_viable_names_its_members_and_their_drivers_from_the_tree()
    {
        using var tree = TreeInGroup7();
        var other = Path.Combine(tree.SysfsRoot, "devices", "platform", "ff160000.mmc");
        Directory.CreateDirectory(other);
        File.CreateSymbolicLink(Path.Combine(tree.SysfsRoot, "kernel", "iommu_groups", "7", "devices", "ff160000.mmc"), other);
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.GroupFd, VfioUapi.VFIO_GROUP_GET_STATUS, 0); // flags stay 0
        // The seam is what the container reads: its options point nowhere.
        using var container = VfioContainer.Open(kernel.Sys, new VfioContainerOptions { GroupDirectory = "/dev/vfio", SysfsRoot = "/nonexistent" }, tree);

        var error = Assert.Throws<VfioException>(() => container.OpenGroup("/dev/vfio/7"));

        Assert.Contains("Members: ff160000.mmc (no driver), ff170000.mmc (vfio-platform).", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, kernel.OpenDescriptors);
    }

    [Fact]
    public void A_devices_cdev_is_named_under_the_trees_dev_root_and_a_no_IOMMU_entry_is_not_one()
    {
        using var tree = TreeInGroup7();
        Directory.CreateDirectory(Path.Combine(tree.DevicePath, "vfio-dev", "vfio0")); // no "dev": no cdev (no-IOMMU)
        Directory.CreateDirectory(Path.Combine(tree.DevicePath, "vfio-dev", "vfio3"));
        File.WriteAllText(Path.Combine(tree.DevicePath, "vfio-dev", "vfio3", "dev"), "237:3\n");

        var device = HostDevice.Find(tree, FakeSysfsTree.Device);

        Assert.Equal(Path.Combine(tree.DevRoot, "vfio", "devices", "vfio3"), device.Cdev);
        Assert.Equal(7, device.IommuGroup);
        Assert.Equal("vfio-platform", device.Driver);
        Assert.Null(device.DriverOverride);
    }

    [Fact]
    public void A_devices_group_node_is_the_one_under_the_trees_dev_root_that_exists()
    {
        using var tree = TreeInGroup7();
        var vfio = Path.Combine(tree.DevRoot, "vfio");

        Assert.Null(HostDevice.Find(tree, FakeSysfsTree.Device).GroupNode); // bound, but no node yet (no devtmpfs)

        File.WriteAllText(Path.Combine(vfio, "noiommu-7"), "");
        Assert.Equal(Path.Combine(vfio, "noiommu-7"), HostDevice.Find(tree, FakeSysfsTree.Device).GroupNode);

        File.WriteAllText(Path.Combine(vfio, "7"), "");
        var device = Assert.Single(HostDevice.Enumerate(tree, "platform"));
        Assert.Equal(Path.Combine(vfio, "7"), device.GroupNode); // an IOMMU-backed node is taken first, as binding does
    }

    [Fact]
    public void A_device_without_a_group_has_no_group_node_even_when_another_groups_node_exists()
    {
        using var tree = new FakeSysfsTree(); // on its native driver: no iommu_group link
        File.WriteAllText(Path.Combine(tree.DevRoot, "vfio", "0"), "");

        var device = HostDevice.Find(tree, FakeSysfsTree.Device);

        Assert.Null(device.IommuGroup);
        Assert.Null(device.GroupNode);
    }

    [Fact]
    public void A_groups_members_are_listed_in_name_order_with_their_drivers_and_a_missing_group_has_none()
    {
        using var tree = TreeInGroup7();
        var other = Path.Combine(tree.SysfsRoot, "devices", "platform", "ff160000.mmc");
        Directory.CreateDirectory(other);
        File.CreateSymbolicLink(Path.Combine(other, "driver"), Path.Combine(tree.SysfsRoot, "bus", "platform", "drivers", FakeSysfsTree.NativeDriver));
        File.CreateSymbolicLink(Path.Combine(tree.SysfsRoot, "kernel", "iommu_groups", "7", "devices", "ff160000.mmc"), other);
        Directory.CreateDirectory(Path.Combine(tree.SysfsRoot, "devices", "platform", "ff150000.mmc"));
        File.CreateSymbolicLink(Path.Combine(tree.SysfsRoot, "kernel", "iommu_groups", "7", "devices", "ff150000.mmc"),
            Path.Combine(tree.SysfsRoot, "devices", "platform", "ff150000.mmc"));

        var members = VfioGroup.MembersOf(7, tree.SysfsRoot);

        Assert.Equal(
            [new VfioGroupMember("ff150000.mmc", null), new VfioGroupMember("ff160000.mmc", FakeSysfsTree.NativeDriver), new VfioGroupMember(FakeSysfsTree.Device, "vfio-platform")],
            members);
        Assert.Empty(VfioGroup.MembersOf(8, tree.SysfsRoot));
        Assert.Throws<ArgumentOutOfRangeException>(() => VfioGroup.MembersOf(-1, tree.SysfsRoot));
    }

    [Fact]
    public void A_holder_whose_name_cannot_be_read_still_stops_the_release()
    {
        using var tree = BoundAndHeldBy31337();
        tree.Unreadable.Add("/31337/comm");

        var error = Assert.Throws<VfioDeviceBusyException>(() => VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options));

        Assert.Contains("pid 31337 (?)", error.Users);
        Assert.Empty(tree.Writes);
        Assert.Equal("vfio-platform", tree.BoundDriver);
    }

    [Fact]
    public void A_process_whose_descriptors_cannot_be_read_is_not_seen_and_the_release_goes_on()
    {
        using var tree = BoundAndHeldBy31337();
        tree.Unreadable.Add("/31337/fd");

        var released = VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options);

        Assert.Equal(FakeSysfsTree.NativeDriver, released.Driver);
        Assert.Equal(FakeSysfsTree.NativeDriver, tree.BoundDriver);
    }

    [Fact]
    public void A_swap_named_by_a_link_is_matched_through_the_link()
    {
        using var tree = new FakeSysfsTree();
        tree.AddCard();
        var byUuid = Path.Combine(tree.DevRoot, "disk", "by-uuid");
        Directory.CreateDirectory(byUuid);
        File.CreateSymbolicLink(Path.Combine(byUuid, "1b2c-3d4e"), Path.Combine(tree.DevRoot, "mmcblk0p1"));
        File.AppendAllText(Path.Combine(tree.ProcRoot, "swaps"), $"{Path.Combine(byUuid, "1b2c-3d4e")}\tpartition\t65532\t0\t-2\n");

        var error = Assert.Throws<VfioDeviceBusyException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options));

        Assert.Contains($"mmcblk0p1 (179:8) is swap ({Path.Combine(byUuid, "1b2c-3d4e")})", error.Users);
        Assert.Empty(tree.Writes);
    }

    [Fact]
    public void Unreadable_mountinfo_leaves_the_kernels_exclusive_open_as_the_answer()
    {
        using var tree = new FakeSysfsTree();
        tree.AddCard();
        File.AppendAllText(Path.Combine(tree.ProcRoot, "self", "mountinfo"), "30 1 179:8 / /mnt rw - ext2 /dev/mmcblk0p1 rw\n");
        tree.Unreadable.Add("/self/mountinfo");
        tree.OpenResults["mmcblk0p1"] = -Errno.EBUSY;

        var error = Assert.Throws<VfioDeviceBusyException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options));

        Assert.DoesNotContain(error.Users, u => u.Contains("mounted on", StringComparison.Ordinal));
        Assert.Contains(error.Users, u => u.StartsWith("mmcblk0p1 (179:8) is busy", StringComparison.Ordinal));
    }
}

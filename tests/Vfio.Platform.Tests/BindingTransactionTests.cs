using System.Text.Json;
using Vfio.Platform.Preparation;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>A bind as a transaction: its record is written before the first sysfs write, a failure
/// after any single write gives everything back, and a later process restores from the record, not
/// from what it finds.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BindingTransactionTests
{
    private const string Type1 = "vfio_iommu_type1", Unsafe = "allow_unsafe_interrupts", Vfio = "vfio", NoIommu = "enable_unsafe_noiommu_mode";

    private static FakeSysfsTree TreeWithParameters()
    {
        var tree = new FakeSysfsTree();
        tree.SetParameter(Type1, Unsafe, "N\n");
        tree.SetParameter(Vfio, NoIommu, "N\n");
        return tree;
    }

    private static VfioBindOptions Everything(FakeSysfsTree tree) => tree.Options with { AllowUnsafeInterrupts = true, EnableNoIommu = true };

    [Fact]
    public void The_record_is_written_before_the_first_sysfs_write()
    {
        using var tree = TreeWithParameters();
        var seen = new List<bool>();
        tree.BeforeWrite = _ => seen.Add(File.Exists(tree.RecordPath));

        using var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, Everything(tree));

        Assert.NotEmpty(seen);
        Assert.All(seen, Assert.True);
        var record = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(tree.RecordPath));
        Assert.Equal("sdhci-arasan", record.GetProperty("originalDriver").GetString());
        Assert.Equal(2, record.GetProperty("parameters").GetArrayLength());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tree.RecordPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(tree.StateDirectory));
    }

    [Fact]
    public void A_failure_after_every_single_write_gives_everything_back()
    {
        int writes;
        using (var full = TreeWithParameters())
        {
            VfioDeviceBinding.Bind(full, FakeSysfsTree.Device, Everything(full));
            writes = full.Writes.Count;
        }

        // unsafe interrupts, no-IOMMU, unbind, driver_override, drivers_probe
        Assert.Equal(5, writes);
        for (var failing = 1; failing <= writes; failing++)
        {
            using var tree = TreeWithParameters();
            tree.FailingWriteNumber = failing;

            var error = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, Everything(tree)));

            Assert.Equal("EIO", error.ErrnoName);
            AssertAsFound(tree, $"write {failing} failed");
        }
    }

    [Fact]
    public void A_device_whose_group_node_never_appears_is_given_back()
    {
        using var tree = TreeWithParameters();
        tree.CreatesGroupNode = false;

        var error = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, Everything(tree)));

        Assert.Equal("ETIMEDOUT", error.ErrnoName);
        AssertAsFound(tree, "no group node");
    }

    [Fact]
    public void A_VFIO_driver_that_refuses_the_device_leaves_it_with_its_driver()
    {
        using var tree = TreeWithParameters();
        tree.RefusingDriver = "vfio-platform";

        Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, Everything(tree)));

        AssertAsFound(tree, "vfio-platform refused");
    }

    /// <summary>The device, its override, both parameters and the state directory as the tree began.</summary>
    private static void AssertAsFound(FakeSysfsTree tree, string why)
    {
        Assert.True("sdhci-arasan" == tree.BoundDriver, $"{why}: bound to {tree.BoundDriver}");
        Assert.True(tree.ReadText(Path.Combine(tree.DevicePath, "driver_override")) is "(null)" or "", $"{why}: driver_override changed");
        Assert.Equal("N", tree.ReadParameter(Type1, Unsafe));
        Assert.Equal("N", tree.ReadParameter(Vfio, NoIommu));
        Assert.False(File.Exists(tree.RecordPath), $"{why}: the record must go once all is back");
    }

    /// <summary>Changes the record on disk as another process (or a crash) would have left it.</summary>
    private static void EditRecord(FakeSysfsTree tree, Action<System.Text.Json.Nodes.JsonObject> edit, string? device = null)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(tree.RecordPath))!.AsObject();
        edit(node);
        var path = device is null ? tree.RecordPath : Path.Combine(tree.StateDirectory, device + ".json");
        File.WriteAllText(path, node.ToJsonString());
    }

    [Fact]
    public void A_temporary_binding_whose_process_died_is_taken_over_with_its_original_driver()
    {
        using var tree = TreeWithParameters();
        VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, Everything(tree)); // not disposed: the process "dies"
        var record = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(tree.RecordPath));
        Assert.False(record.GetProperty("persistent").GetBoolean());
        EditRecord(tree, r => r["pid"] = 99999999); // a process that no longer runs
        Assert.Equal("vfio-platform", tree.BoundDriver);

        var next = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options);

        Assert.Equal("sdhci-arasan", next.OriginalDriver); // not the vfio-platform the dead run left
        next.Dispose();
        Assert.Equal("sdhci-arasan", tree.BoundDriver);
        Assert.Equal("N", tree.ReadParameter(Type1, Unsafe));
        Assert.Equal("N", tree.ReadParameter(Vfio, NoIommu));
        Assert.False(File.Exists(tree.RecordPath));
    }

    [Fact]
    public void A_binding_whose_process_runs_is_not_taken()
    {
        using var tree = TreeWithParameters();
        VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options);
        tree.AddProcess(4242, startTime: 777);
        EditRecord(tree, r =>
        {
            r["pid"] = 4242;
            r["pidStartTime"] = 777;
        });
        tree.Writes.Clear();

        var bind = Assert.Throws<VfioDeviceBusyException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options));
        var release = Assert.Throws<VfioDeviceBusyException>(() => VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options));

        Assert.Contains("pid 4242", bind.Message, StringComparison.Ordinal);
        Assert.Contains("pid 4242", release.Message, StringComparison.Ordinal);
        Assert.Empty(tree.Writes);
        Assert.Equal("vfio-platform", tree.BoundDriver);
    }

    [Fact]
    public void A_reused_pid_is_not_taken_for_the_owner()
    {
        using var tree = TreeWithParameters();
        VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options);
        tree.AddProcess(4242, startTime: 999); // same pid, another process
        EditRecord(tree, r =>
        {
            r["pid"] = 4242;
            r["pidStartTime"] = 777;
        });

        var released = VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options);

        Assert.Equal("sdhci-arasan", released.Driver);
        Assert.False(File.Exists(tree.RecordPath));
    }

    [Fact]
    public void A_persistent_binding_is_released_from_its_record_by_a_later_process()
    {
        using var tree = TreeWithParameters();
        File.WriteAllText(Path.Combine(tree.DevicePath, "driver_override"), "sdhci-arasan\n");
        VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, Everything(tree) with { RestoreOnDispose = false }).Dispose();
        Assert.Equal("vfio-platform", tree.BoundDriver);
        Assert.Equal("Y", tree.ReadParameter(Type1, Unsafe));

        // A --bind run meanwhile uses the binding as it is and leaves it bound.
        using (var run = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options))
        {
            Assert.Equal("sdhci-arasan", run.OriginalDriver);
        }

        Assert.Equal("vfio-platform", tree.BoundDriver);
        var released = VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options);

        Assert.Equal("sdhci-arasan", released.Driver);
        Assert.Equal("sdhci-arasan", tree.ReadText(Path.Combine(tree.DevicePath, "driver_override")));
        Assert.Equal("N", tree.ReadParameter(Type1, Unsafe));
        Assert.Equal("N", tree.ReadParameter(Vfio, NoIommu));
        Assert.False(File.Exists(tree.RecordPath));
        Assert.Empty(released.Notes);
    }

    [Fact]
    public void A_parameter_another_recorded_binding_needs_stays_on_until_the_last_one_goes()
    {
        using var tree = TreeWithParameters();
        var first = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { AllowUnsafeInterrupts = true, RestoreOnDispose = false });
        // A second device's record that turned the same parameter on (after it was already on: it inherits the old value).
        EditRecord(tree, r => r["device"] = "ff160000.mmc", device: "ff160000.mmc");
        Assert.Equal("N", first.Record!.Parameters.Single().OldValue);

        var released = VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options);

        Assert.Equal("Y", tree.ReadParameter(Type1, Unsafe));
        Assert.Contains(released.Notes, n => n.Contains("ff160000.mmc still needs it", StringComparison.Ordinal));
        Assert.Equal("sdhci-arasan", released.Driver);
    }

    [Fact]
    public void A_second_binding_inherits_the_original_value_of_a_parameter_the_first_turned_on()
    {
        using var tree = TreeWithParameters();
        var first = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { AllowUnsafeInterrupts = true, RestoreOnDispose = false });
        EditRecord(tree, r => r["device"] = "ff160000.mmc", device: "ff160000.mmc");
        File.Delete(tree.RecordPath);
        VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options); // no record now: plain release
        Assert.Equal("Y", tree.ReadParameter(Type1, Unsafe));

        var second = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { AllowUnsafeInterrupts = true });

        Assert.Equal("N", second.Record!.Parameters.Single().OldValue);
        Assert.NotNull(first.Record);
    }

    [Fact]
    public void No_IOMMU_mode_is_turned_on_only_for_a_device_without_a_group()
    {
        using var tree = TreeWithParameters();
        Directory.CreateDirectory(Path.Combine(tree.SysfsRoot, "kernel", "iommu_groups", "7"));
        File.CreateSymbolicLink(Path.Combine(tree.DevicePath, "iommu_group"), Path.Combine(tree.SysfsRoot, "kernel", "iommu_groups", "7"));
        File.WriteAllText(Path.Combine(tree.DevRoot, "vfio", "7"), "");

        using var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { EnableNoIommu = true });

        Assert.Equal("N", tree.ReadParameter(Vfio, NoIommu));
        Assert.Empty(binding.Record!.Parameters);
        Assert.False(binding.IsNoIommu);
    }

    [Fact]
    public void A_missing_parameter_is_refused_before_anything_is_written()
    {
        using var tree = new FakeSysfsTree();

        var error = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { AllowUnsafeInterrupts = true }));

        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Contains("vfio_iommu_type1", error.Message, StringComparison.Ordinal);
        Assert.Empty(tree.Writes);
        Assert.False(File.Exists(tree.RecordPath));
    }

    [Fact]
    public void An_unwritable_state_directory_stops_the_bind_before_any_change()
    {
        using var tree = TreeWithParameters();
        Directory.CreateDirectory(Path.GetDirectoryName(tree.StateDirectory)!);
        File.WriteAllText(tree.StateDirectory, "a file where the directory should be");

        var error = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, Everything(tree)));

        Assert.Equal("write binding record", error.Operation);
        Assert.Empty(tree.Writes);
        Assert.Equal("sdhci-arasan", tree.BoundDriver);
    }

    [Fact]
    public void Release_refuses_while_another_process_holds_the_group()
    {
        using var tree = TreeWithParameters();
        VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { RestoreOnDispose = false });
        tree.AddProcess(31337, startTime: 5, Path.Combine(tree.DevRoot, "vfio", "noiommu-0"));
        tree.Writes.Clear();

        var error = Assert.Throws<VfioDeviceBusyException>(() => VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options));

        Assert.Contains("pid 31337 (fakeproc)", error.Users);
        Assert.Empty(tree.Writes);
        Assert.True(File.Exists(tree.RecordPath));
        Assert.Equal("vfio-platform", tree.BoundDriver);
    }

    [Fact]
    public void Release_of_a_device_not_on_VFIO_changes_nothing()
    {
        using var tree = TreeWithParameters();

        var released = VfioDeviceBinding.Release(tree, FakeSysfsTree.Device, reprobe: true, tree.Options);

        Assert.Equal("sdhci-arasan", released.Driver);
        Assert.Empty(tree.Writes);
        Assert.Contains("nothing to give back", released.Notes.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_record_is_reported_not_guessed_around()
    {
        using var tree = TreeWithParameters();
        Directory.CreateDirectory(tree.StateDirectory);
        File.WriteAllText(tree.RecordPath, "{ not json");

        var error = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options));

        Assert.Equal("EINVAL", error.ErrnoName);
        Assert.Contains(tree.RecordPath, error.Message, StringComparison.Ordinal);
        Assert.Empty(tree.Writes);
    }
}

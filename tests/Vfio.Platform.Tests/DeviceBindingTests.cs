using Vfio.Native;
using Vfio.Platform.Preparation;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The seed's preparation steps on a fake sysfs tree whose simulated kernel reacts to writes.
/// The same code runs against the real kernel in the rig (tests/Vfio.Rig.Tests).</summary>
public sealed class DeviceBindingTests
{
    [Fact]
    public void Bind_unbinds_overrides_and_probes_in_that_order_then_finds_the_group()
    {
        using var tree = new FakeSysfsTree();

        var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options);

        Assert.Equal("vfio-platform", tree.BoundDriver);
        Assert.Equal(
        [
            ("sys/bus/platform/devices/ff170000.mmc/driver/unbind", "ff170000.mmc"),
            ("sys/bus/platform/devices/ff170000.mmc/driver_override", "vfio-platform"),
            ("sys/bus/platform/drivers_probe", "ff170000.mmc"),
        ], tree.Writes);
        Assert.Equal("sdhci-arasan", binding.OriginalDriver);
        Assert.Equal(0, binding.GroupNumber);
        Assert.Equal(Path.Combine(tree.DevRoot, "vfio", "noiommu-0"), binding.GroupPath);
        Assert.True(binding.IsNoIommu);
    }

    [Fact]
    public void Dispose_gives_the_device_back_to_its_original_driver()
    {
        using var tree = new FakeSysfsTree();
        var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options);
        tree.Writes.Clear();

        binding.Dispose();

        Assert.Equal("sdhci-arasan", tree.BoundDriver);
        Assert.Equal("", tree.ReadText(Path.Combine(tree.DevicePath, "driver_override")));
        Assert.Equal(
        [
            ("sys/bus/platform/devices/ff170000.mmc/driver/unbind", "ff170000.mmc"),
            ("sys/bus/platform/devices/ff170000.mmc/driver_override", "\n"),
            ("sys/bus/platform/drivers_probe", "ff170000.mmc"),
        ], tree.Writes);
        binding.Dispose();
        Assert.Equal(3, tree.Writes.Count);
    }

    [Fact]
    public void A_device_already_bound_to_VFIO_is_left_as_it_is()
    {
        using var tree = new FakeSysfsTree(boundTo: "vfio-platform");

        using (var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options))
        {
            Assert.Equal("vfio-platform", binding.OriginalDriver);
        }

        Assert.Empty(tree.Writes);
        Assert.Equal("vfio-platform", tree.BoundDriver);
    }

    [Fact]
    public void A_VFIO_driver_that_refuses_the_device_is_explained()
    {
        using var tree = new FakeSysfsTree { RefusingDriver = "vfio-platform" };

        var error = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options));

        Assert.Equal("ff170000.mmc", error.Target);
        Assert.Contains("vfio-platform.reset_required=0", error.Message, StringComparison.Ordinal);
        Assert.Contains("bound to nothing", error.Message, StringComparison.Ordinal);
        Assert.Equal("sdhci-arasan", tree.BoundDriver); // and the device went back to its driver
    }

    [Fact]
    public void A_failing_write_names_the_step_and_the_errno()
    {
        using var tree = new FakeSysfsTree { FailingWrite = ("/unbind", Errno.EACCES) };

        var error = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options));

        Assert.Equal("unbind from sdhci-arasan", error.Operation);
        Assert.Equal("EACCES", error.ErrnoName);
        Assert.Contains("needs root", error.Message, StringComparison.Ordinal);
        Assert.Equal("sdhci-arasan", tree.BoundDriver);
    }

    [Fact]
    public void A_device_that_does_not_exist_or_is_a_path_is_refused()
    {
        using var tree = new FakeSysfsTree();

        var missing = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, "ff160000.mmc", tree.Options));
        var path = Assert.Throws<ArgumentException>(() => VfioDeviceBinding.Bind(tree, "../../etc", tree.Options)); // the caller's mistake: no errno

        Assert.Equal("ENODEV", missing.ErrnoName);
        Assert.Equal("device", path.ParamName);
        Assert.Empty(tree.Writes);
    }

    [Fact]
    public void Unsafe_interrupts_are_allowed_only_on_request()
    {
        using var tree = new FakeSysfsTree();
        var parameter = Path.Combine(tree.SysfsRoot, "module", "vfio_iommu_type1", "parameters", "allow_unsafe_interrupts");
        Directory.CreateDirectory(Path.GetDirectoryName(parameter)!);
        File.WriteAllText(parameter, "N");

        VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options).Restore();
        Assert.Equal("N", File.ReadAllText(parameter));

        VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { AllowUnsafeInterrupts = true });
        Assert.Equal("Y", File.ReadAllText(parameter));
    }
}

namespace Vfio.Platform.Preparation;

/// <summary>Options for <see cref="VfioDeviceBinding.Bind(string, VfioBindOptions?)"/>.</summary>
public sealed record VfioBindOptions
{
    /// <summary>Where sysfs is mounted (<c>/sys</c>); a test can point it at a fake tree.</summary>
    public string SysfsRoot { get; init; } = Sysfs.DefaultRoot;

    /// <summary>Where device nodes live (<c>/dev</c>).</summary>
    public string DevRoot { get; init; } = Sysfs.DefaultDevRoot;

    /// <summary>Set <c>vfio_iommu_type1.allow_unsafe_interrupts</c>: needed where the interrupt controller
    /// cannot remap interrupts (many ARM SoCs), and unsafe because the device could then forge
    /// interrupts. Off by default.</summary>
    public bool AllowUnsafeInterrupts { get; init; }

    /// <summary>Turn on <c>vfio.enable_unsafe_noiommu_mode</c> when the device has no IOMMU group, so that
    /// it gets a no-IOMMU group (no isolation: the device can DMA anywhere). The old value is recorded
    /// and put back when the device is given back, unless another recorded binding still needs it.</summary>
    public bool EnableNoIommu { get; init; }

    /// <summary>Refuse a device whose block devices (a card, a disk, their partitions) are mounted,
    /// swapped on, held by another block device or opened exclusively: taking the device would pull
    /// them from under their users. On by default; turning it off is how a caller overrides the check.</summary>
    public bool RefuseBlockDevicesInUse { get; init; } = true;

    /// <summary>Give the device's VFIO nodes (group node, device cdevs) to this user and group once it is
    /// bound, so that the program using it needs no root (<see cref="VfioNodeOwner.StillNeeded"/> says
    /// what else it needs). Null: they stay root's.</summary>
    public VfioNodeOwner? Owner { get; init; }

    /// <summary>Give the device back to its original driver when the binding is disposed. Off, the
    /// binding outlives the process and its record says so (given back by <see cref="VfioDeviceBinding.Release(string, bool, VfioBindOptions?)"/>).</summary>
    public bool RestoreOnDispose { get; init; } = true;

    /// <summary>Where binding records are kept (<see cref="BindingRecord"/>): a tmpfs, so that a reboot,
    /// which undoes every binding, clears them too.</summary>
    public string StateDirectory { get; init; } = "/run/vfio-net";

    /// <summary>Where procfs is mounted (<c>/proc</c>: mounts, swaps, process descriptors); a test can point it at a fake tree.</summary>
    public string ProcRoot { get; init; } = Sysfs.DefaultProcRoot;

    /// <summary>How long to wait for the driver to bind and the group node to appear.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

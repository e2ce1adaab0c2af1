namespace Vfio.Platform.Preparation;

/// <summary>Options for <see cref="VfioDeviceBinding.Bind(string, VfioBindOptions?)"/>.</summary>
public sealed record VfioBindOptions
{
    /// <summary>Where sysfs is mounted; a test can point it at a fake tree.</summary>
    public string SysfsRoot { get; init; } = "/sys";

    /// <summary>Where device nodes live.</summary>
    public string DevRoot { get; init; } = "/dev";

    /// <summary>Set <c>vfio_iommu_type1.allow_unsafe_interrupts</c>: needed where the interrupt controller
    /// cannot remap interrupts (many ARM SoCs), and unsafe because the device could then forge
    /// interrupts. Off by default; sdhci-probe sets it only with <c>--unsafe-interrupts</c>.</summary>
    public bool AllowUnsafeInterrupts { get; init; }

    /// <summary>Give the device back to its original driver when the binding is disposed.</summary>
    public bool RestoreOnDispose { get; init; } = true;

    /// <summary>How long to wait for the driver to bind and the group node to appear.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

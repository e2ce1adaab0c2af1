namespace Vfio.Platform;

/// <summary>Options for <see cref="VfioContainer.Open(VfioContainerOptions?)"/>.</summary>
public sealed record VfioContainerOptions
{
    /// <summary>Accept no-IOMMU groups (<c>/dev/vfio/noiommu-N</c>): the device is not isolated and can
    /// DMA anywhere. Needs the kernel's <c>vfio.enable_unsafe_noiommu_mode=1</c>. Off by default.</summary>
    public bool AllowNoIommu { get; init; }

    /// <summary>The container device node.</summary>
    public string ContainerPath { get; init; } = "/dev/vfio/vfio";

    /// <summary>Where group nodes live.</summary>
    public string GroupDirectory { get; init; } = "/dev/vfio";

    /// <summary>The sysfs mount, where a device's group is found (<see cref="VfioContainer.OpenGroupOf"/>) and a group's members are read for messages (<c>kernel/iommu_groups/N/devices</c>); <c>/sys</c> by default.</summary>
    public string SysfsRoot { get; init; } = Preparation.Sysfs.DefaultRoot;

    /// <summary>The IOMMU back-end to set when the first IOMMU-backed group is attached:
    /// <see cref="VfioIommuType.Type1"/> or <see cref="VfioIommuType.Type1v2"/>. Null (the default) picks
    /// type1v2 where the kernel has it, else type1. Asking for one the kernel lacks fails with ENODEV.
    /// No-IOMMU groups always get the no-IOMMU back-end.</summary>
    public VfioIommuType? IommuType { get; init; }
}

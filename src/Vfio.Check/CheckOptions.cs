namespace Vfio.Check;

/// <summary>What to check and how.</summary>
/// <param name="Device">The device's sysfs name.</param>
/// <param name="Iommu">The back-end asked for.</param>
/// <param name="Reset">Run VFIO_DEVICE_RESET when the device offers it (it resets the device).</param>
internal sealed record CheckOptions(string Device, IommuChoice Iommu, bool Reset);

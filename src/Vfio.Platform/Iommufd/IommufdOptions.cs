namespace Vfio.Platform.Iommufd;

/// <summary>Where <see cref="IommufdContext"/> finds its nodes; injectable for tests.</summary>
public sealed record IommufdOptions
{
    /// <summary>The iommufd node.</summary>
    public string IommufdPath { get; init; } = "/dev/iommu";

    /// <summary>Where the kernel puts VFIO device cdevs (<c>vfioN</c>).</summary>
    public string DeviceDirectory { get; init; } = "/dev/vfio/devices";

    /// <summary>The sysfs mount, where a device's cdev number is found (<c>.../DEVICE/vfio-dev/vfioN</c>); <c>/sys</c> by default.</summary>
    public string SysfsRoot { get; init; } = Preparation.Sysfs.DefaultRoot;
}

using Vfio.Platform.Preparation;

namespace Vfio.Platform.Discovery;

/// <summary>Where a device lives in sysfs: the buses a VFIO device can sit on, searched in one order, and
/// the message when it is on none. The one place that knows them (discovery, binding, the group and the
/// iommufd cdev all find a device through here).</summary>
internal static class SysfsDevices
{
    /// <summary>The buses with a VFIO driver (vfio-platform, vfio-pci, vfio-amba), in search order.</summary>
    public static readonly string[] Buses = ["platform", "pci", "amba"];

    /// <summary><c>SYSFS/bus/BUS/devices/NAME</c>.</summary>
    public static string PathOf(ISysfs sysfs, string bus, string name) => Path.Combine(sysfs.SysfsRoot, "bus", bus, "devices", name);

    /// <summary>The bus and directory of <paramref name="name"/>, or null when no bus has it.</summary>
    public static (string Bus, string Path)? Find(ISysfs sysfs, string name)
    {
        foreach (var bus in Buses)
        {
            var path = PathOf(sysfs, bus, name);
            if (sysfs.IsDirectory(path))
                return (bus, path);
        }

        return null;
    }

    /// <summary>The name of a device's VFIO cdev (<c>vfioN</c>) from its sysfs directory, or null. Only a char
    /// device has a <c>dev</c> (major:minor) attribute: a no-IOMMU device gets a <c>vfio-dev/vfioN</c> entry but
    /// no cdev (Linux 6.12, drivers/vfio/vfio.h), so it has no node to open.</summary>
    public static string? CdevName(ISysfs sysfs, string devicePath) =>
        sysfs.Entries(Path.Combine(devicePath, "vfio-dev"))
            .Select(Path.GetFileName)
            .FirstOrDefault(name => name!.StartsWith("vfio", StringComparison.Ordinal) && sysfs.Exists(Path.Combine(devicePath, "vfio-dev", name, "dev")));

    /// <summary>The hint for a device on no bus.</summary>
    public static string NotFound(ISysfs sysfs, string name) => $"No device {name} under {sysfs.SysfsRoot}/bus/{{{string.Join(',', Buses)}}}/devices.";
}

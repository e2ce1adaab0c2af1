namespace Vfio.Platform.Discovery;

/// <summary>Where a device lives in sysfs: the buses a VFIO device can sit on, searched in one order, and
/// the message when it is on none. The one place that knows them (discovery, binding, the group and the
/// iommufd cdev all find a device through here).</summary>
internal static class SysfsDevices
{
    /// <summary>The buses with a VFIO driver (vfio-platform, vfio-pci, vfio-amba), in search order.</summary>
    public static readonly string[] Buses = ["platform", "pci", "amba"];

    /// <summary><c>SYSFS/bus/BUS/devices/NAME</c>.</summary>
    public static string PathOf(string sysfsRoot, string bus, string name) => Path.Combine(sysfsRoot, "bus", bus, "devices", name);

    /// <summary>The bus and directory of <paramref name="name"/>, or null when no bus has it.</summary>
    /// <param name="sysfsRoot">The sysfs mount.</param>
    /// <param name="name">The device's sysfs name.</param>
    /// <param name="exists">How to ask whether a directory exists (a test's fake sysfs); the file system by default.</param>
    public static (string Bus, string Path)? Find(string sysfsRoot, string name, Func<string, bool>? exists = null)
    {
        exists ??= Directory.Exists;
        foreach (var bus in Buses)
        {
            var path = PathOf(sysfsRoot, bus, name);
            if (exists(path))
                return (bus, path);
        }

        return null;
    }

    /// <summary>The name of a device's VFIO cdev (<c>vfioN</c>) from its sysfs directory, or null. Only a char
    /// device has a <c>dev</c> (major:minor) attribute: a no-IOMMU device gets a <c>vfio-dev/vfioN</c> entry but
    /// no cdev (Linux 6.12, drivers/vfio/vfio.h), so it has no node to open.</summary>
    public static string? CdevName(string devicePath)
    {
        var dir = Path.Combine(devicePath, "vfio-dev");
        return Directory.Exists(dir)
            ? Directory.GetFileSystemEntries(dir, "vfio*").Where(d => File.Exists(Path.Combine(d, "dev"))).Select(Path.GetFileName).Order(StringComparer.Ordinal).FirstOrDefault()
            : null;
    }

    /// <summary>The hint for a device on no bus.</summary>
    public static string NotFound(string sysfsRoot, string name) => $"No device {name} under {sysfsRoot}/bus/{{{string.Join(',', Buses)}}}/devices.";
}

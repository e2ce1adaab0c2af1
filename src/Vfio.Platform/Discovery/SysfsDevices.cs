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
    /// <summary>Refuses what is not a sysfs device name (empty, a path, "." or ".."): every look-up by a caller's
    /// name goes through <see cref="Find"/>, so none reaches sysfs outside <c>bus/*/devices/</c>.</summary>
    /// <exception cref="ArgumentException">Not a device name.</exception>
    public static void CheckName(string device, string operation)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (string.IsNullOrWhiteSpace(device))
        {
            throw new ArgumentException($"{operation}: a device name is required (ff170000.mmc, 0000:00:01.0).", nameof(device));
        }

        if (device.Contains('/', StringComparison.Ordinal) || device is "." or "..")
        {
            throw new ArgumentException($"{device}: {operation}: a device is named by its sysfs name (ff170000.mmc, 0000:00:01.0), not a path.", nameof(device));
        }
    }

    public static string PathOf(ISysfs sysfs, string bus, string name) => Path.Combine(sysfs.SysfsRoot, "bus", bus, "devices", name);

    /// <summary>The bus and directory of <paramref name="name"/>, or null when no bus has it.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a path, not a sysfs device name.</exception>
    public static (string Bus, string Path)? Find(ISysfs sysfs, string name, string operation)
    {
        CheckName(name, operation);
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

    /// <summary>The group node of IOMMU group <paramref name="group"/> that exists: <c>DEV/vfio/N</c>, or
    /// <c>DEV/vfio/noiommu-N</c> for a no-IOMMU group; null while neither does (no VFIO driver bound yet, or
    /// no devtmpfs).</summary>
    public static string? GroupNode(ISysfs sysfs, string group)
    {
        var vfio = Path.Combine(sysfs.DevRoot, "vfio");
        return new[] { Path.Combine(vfio, group), Path.Combine(vfio, $"noiommu-{group}") }.FirstOrDefault(sysfs.Exists);
    }

    /// <summary>The devices of IOMMU group <paramref name="group"/> (<c>SYSFS/kernel/iommu_groups/N/devices</c>)
    /// with their drivers, in name order; none when the group is not there.</summary>
    public static IReadOnlyList<VfioGroupMember> GroupMembers(ISysfs sysfs, string group) =>
        [.. sysfs.Entries(Path.Combine(sysfs.SysfsRoot, "kernel", "iommu_groups", group, "devices"))
            .Select(d => new VfioGroupMember(Path.GetFileName(d), sysfs.LinkName(Path.Combine(d, "driver"))))];

    /// <summary>The hint for a device on no bus.</summary>
    public static string NotFound(ISysfs sysfs, string name) => $"No device {name} under {sysfs.SysfsRoot}/bus/{{{string.Join(',', Buses)}}}/devices.";
}

using System.Globalization;
using Vfio.Platform.Preparation;

namespace Vfio.Platform.Discovery;

/// <summary>What sysfs says about a device on the host: its bus, driver, IOMMU group and VFIO cdev, and for
/// naming regions and interrupts, its device-tree node (platform devices: <c>compatible</c>,
/// <c>reg-names</c>, <c>interrupt-names</c>) or its PCI identity (vendor, device, class).</summary>
/// <example>
/// <code>
/// var sd = HostDevice.Find("ff170000.mmc");
/// Console.WriteLine($"{sd.Driver} group {sd.IommuGroup} {string.Join(",", sd.Compatible)}");
/// foreach (var pci in HostDevice.Enumerate("pci").Where(d => d.ClassCode >> 8 == 0x0805)) { ... }
/// </code>
/// </example>
/// <param name="Name">The device name (<c>ff170000.mmc</c>, <c>0000:00:01.0</c>).</param>
/// <param name="Bus">platform, pci or amba.</param>
/// <param name="SysfsPath">Its directory under <c>/sys/bus/BUS/devices</c>.</param>
/// <param name="Driver">The bound driver, or null.</param>
/// <param name="DriverOverride">The <c>driver_override</c>, or null when none is set.</param>
/// <param name="IommuGroup">The IOMMU group number, or null without one.</param>
/// <param name="Cdev">The VFIO device cdev (<c>/dev/vfio/devices/vfioN</c>) while bound to VFIO on a kernel with cdevs, else null.</param>
/// <param name="Compatible">Device-tree <c>compatible</c> strings (platform devices), most specific first.</param>
/// <param name="RegNames">Device-tree <c>reg-names</c>: the names of the VFIO regions, in index order.</param>
/// <param name="InterruptNames">Device-tree <c>interrupt-names</c>: the names of the VFIO IRQ indexes, in order.</param>
/// <param name="VendorId">PCI vendor id.</param>
/// <param name="DeviceId">PCI device id.</param>
/// <param name="ClassCode">PCI class code (24 bits: class, subclass, programming interface).</param>
public sealed record HostDevice(
    string Name,
    string Bus,
    string SysfsPath,
    string? Driver,
    string? DriverOverride,
    int? IommuGroup,
    string? Cdev,
    IReadOnlyList<string> Compatible,
    IReadOnlyList<string> RegNames,
    IReadOnlyList<string> InterruptNames,
    ushort? VendorId,
    ushort? DeviceId,
    uint? ClassCode)
{
    /// <summary>Where the kernel mounts sysfs: the default <c>sysfsRoot</c> of <see cref="Find(string, string)"/>,
    /// <see cref="Enumerate(string, string)"/>, <see cref="VfioGroup.GroupNumberOf(string, string)"/>,
    /// <see cref="VfioGroup.MembersOf"/> and of every option that names the root. Tools that take a
    /// <c>--sysfs</c> for tests default to it.</summary>
    public const string DefaultSysfsRoot = Sysfs.DefaultRoot;

    /// <summary>The VFIO group node that exists for the device's IOMMU group: <c>/dev/vfio/N</c>, or
    /// <c>/dev/vfio/noiommu-N</c> for a no-IOMMU group. Null without a group, or while neither node exists
    /// (not bound to a VFIO driver, or no devtmpfs).</summary>
    public string? GroupNode { get; init; }

    /// <summary>True while the device is bound to a VFIO driver.</summary>
    public bool IsBoundToVfio => Driver is "vfio-platform" or "vfio-pci" or "vfio-amba";

    /// <summary>The device-tree name of region <paramref name="index"/>, or null.</summary>
    /// <param name="index">A VFIO region index (a platform device's reg entry).</param>
    /// <returns>The name from <c>reg-names</c>.</returns>
    public string? RegionName(int index) => (uint)index < (uint)RegNames.Count ? RegNames[index] : null;

    /// <summary>The device-tree name of IRQ index <paramref name="index"/>, or null.</summary>
    /// <param name="index">A VFIO IRQ index (a platform device's interrupt).</param>
    /// <returns>The name from <c>interrupt-names</c>.</returns>
    public string? InterruptName(int index) => (uint)index < (uint)InterruptNames.Count ? InterruptNames[index] : null;

    /// <summary>Finds <paramref name="name"/> on the platform, PCI or AMBA bus.</summary>
    /// <param name="name">The device name.</param>
    /// <param name="sysfsRoot">The sysfs mount.</param>
    /// <returns>What sysfs says.</returns>
    /// <exception cref="VfioException">ENODEV: no such device.</exception>
    public static HostDevice Find(string name, string sysfsRoot = Sysfs.DefaultRoot) => Find(new Sysfs(sysfsRoot), name);

    internal static HostDevice Find(ISysfs sysfs, string name)
    {
        return SysfsDevices.Find(sysfs, name, "HostDevice.Find") is { } found
            ? Read(sysfs, name, found.Bus, found.Path)
            : throw new VfioException("find device", name, Native.Errno.ENODEV, SysfsDevices.NotFound(sysfs, name));
    }

    /// <summary>Every device on <paramref name="bus"/>, in name order.</summary>
    /// <param name="bus">platform, pci or amba.</param>
    /// <param name="sysfsRoot">The sysfs mount.</param>
    /// <returns>The devices; empty when the bus does not exist.</returns>
    public static IReadOnlyList<HostDevice> Enumerate(string bus, string sysfsRoot = Sysfs.DefaultRoot) => Enumerate(new Sysfs(sysfsRoot), bus);

    internal static IReadOnlyList<HostDevice> Enumerate(ISysfs sysfs, string bus) =>
        [.. sysfs.Entries(Path.Combine(sysfs.SysfsRoot, "bus", bus, "devices")).Select(p => Read(sysfs, Path.GetFileName(p), bus, p))];

    private static HostDevice Read(ISysfs sysfs, string name, string bus, string path)
    {
        var group = sysfs.LinkName(Path.Combine(path, "iommu_group"));
        var cdev = SysfsDevices.CdevName(sysfs, path);
        var over = sysfs.ReadText(Path.Combine(path, "driver_override"));
        var ofNode = Path.Combine(path, "of_node");
        return new HostDevice(
            name,
            bus,
            path,
            sysfs.LinkName(Path.Combine(path, "driver")),
            over is null or "(null)" or "" ? null : over,
            group is not null && int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null,
            cdev is null ? null : Path.Combine(sysfs.DevRoot, "vfio", "devices", cdev),
            Strings(sysfs, Path.Combine(ofNode, "compatible")),
            Strings(sysfs, Path.Combine(ofNode, "reg-names")),
            Strings(sysfs, Path.Combine(ofNode, "interrupt-names")),
            (ushort?)Hex(sysfs, Path.Combine(path, "vendor")),
            (ushort?)Hex(sysfs, Path.Combine(path, "device")),
            Hex(sysfs, Path.Combine(path, "class")))
        {
            GroupNode = group is null ? null : SysfsDevices.GroupNode(sysfs, group),
        };
    }

    /// <summary>A device-tree string list property: NUL-separated strings.</summary>
    private static string[] Strings(ISysfs sysfs, string path) =>
        sysfs.ReadText(path)?.Split('\0', StringSplitOptions.RemoveEmptyEntries) ?? [];

    private static uint? Hex(ISysfs sysfs, string path)
    {
        var text = sysfs.ReadText(path);
        return text is not null && text.StartsWith("0x", StringComparison.Ordinal)
            && uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;
    }
}

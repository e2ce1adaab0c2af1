using Vfio.Platform.Discovery;

namespace Sdhci.Probe.Commands;

/// <summary>One SD host controller found in sysfs.</summary>
/// <param name="Name">Its sysfs name.</param>
/// <param name="Bus"><c>platform</c> or <c>pci</c>.</param>
/// <param name="Identity">Device-tree compatible strings, or PCI vendor:device.</param>
/// <param name="Driver">The bound driver, or null.</param>
/// <param name="IommuGroup">The IOMMU group, or null.</param>
/// <param name="GroupNode">The VFIO group node when it exists.</param>
internal sealed record ControllerInfo(string Name, string Bus, string Identity, string? Driver, int? IommuGroup, string? GroupNode)
{
    /// <summary>PCI base class 08 (system peripheral), subclass 05: SD host controller.</summary>
    private const uint SdHostClass = 0x0805;

    /// <summary>Bound to a VFIO driver with a group node: ready for dump, irq, init, read.</summary>
    public bool ReadyForVfio => Driver is "vfio-platform" or "vfio-pci" && GroupNode is not null;

    /// <summary>The controllers under <paramref name="sysfsRoot"/>, as the library's discovery reads them
    /// (<see cref="HostDevice.Enumerate(string, string)"/>): platform devices whose device-tree node is compatible with an
    /// SDHCI or Arasan controller, then PCI devices of class 0x0805 (SD host), each bus in name order.</summary>
    public static List<ControllerInfo> Discover(string sysfsRoot = HostDevice.DefaultSysfsRoot)
    {
        var platform = HostDevice.Enumerate("platform", sysfsRoot)
            .Where(d => d.Compatible.Any(c => c.Contains("sdhci", StringComparison.OrdinalIgnoreCase) || c.Contains("arasan", StringComparison.OrdinalIgnoreCase)))
            .Select(d => From(d, string.Join(",", d.Compatible)));
        var pci = HostDevice.Enumerate("pci", sysfsRoot)
            .Where(d => d.ClassCode >> 8 == SdHostClass)
            .Select(d => From(d, $"{d.VendorId:x4}:{d.DeviceId:x4} class 0x{d.ClassCode:x6}"));
        return [.. platform, .. pci];
    }

    private static ControllerInfo From(HostDevice device, string identity) =>
        new(device.Name, device.Bus, identity, device.Driver, device.IommuGroup, device.GroupNode);
}

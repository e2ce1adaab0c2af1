using System.Globalization;

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
    /// <summary>Bound to a VFIO driver with a group node: ready for dump, irq, init, read.</summary>
    public bool ReadyForVfio => Driver is "vfio-platform" or "vfio-pci" && GroupNode is not null;

    /// <summary>The controllers under <paramref name="sysfsRoot"/>: platform devices whose device-tree
    /// node is compatible with an SDHCI or Arasan controller, and PCI devices of class 0x0805 (SD host).</summary>
    public static List<ControllerInfo> Discover(string sysfsRoot = "/sys", string devRoot = "/dev")
    {
        var found = new List<ControllerInfo>();
        var platform = Path.Combine(sysfsRoot, "bus", "platform", "devices");
        foreach (var device in Entries(platform))
        {
            var compatible = ReadNulSeparated(Path.Combine(device, "of_node", "compatible"));
            if (compatible.Any(c => c.Contains("sdhci", StringComparison.OrdinalIgnoreCase) || c.Contains("arasan", StringComparison.OrdinalIgnoreCase)))
            {
                found.Add(Describe(device, "platform", string.Join(",", compatible), devRoot));
            }
        }

        var pci = Path.Combine(sysfsRoot, "bus", "pci", "devices");
        foreach (var device in Entries(pci))
        {
            var deviceClass = ReadText(Path.Combine(device, "class"));
            if (deviceClass is not null && deviceClass.StartsWith("0x0805", StringComparison.Ordinal))
            {
                var identity = $"{ReadText(Path.Combine(device, "vendor"))?.Replace("0x", "", StringComparison.Ordinal)}:{ReadText(Path.Combine(device, "device"))?.Replace("0x", "", StringComparison.Ordinal)} class {deviceClass}";
                found.Add(Describe(device, "pci", identity, devRoot));
            }
        }

        return found;
    }

    private static ControllerInfo Describe(string device, string bus, string identity, string devRoot)
    {
        var driver = LinkName(Path.Combine(device, "driver"));
        int? group = int.TryParse(LinkName(Path.Combine(device, "iommu_group")), NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : null;
        string? node = null;
        if (group is not null)
        {
            node = new[] { Path.Combine(devRoot, "vfio", $"{group}"), Path.Combine(devRoot, "vfio", $"noiommu-{group}") }.FirstOrDefault(File.Exists);
        }

        return new ControllerInfo(Path.GetFileName(device), bus, identity, driver, group, node);
    }

    private static string[] Entries(string folder) =>
        Directory.Exists(folder) ? [.. Directory.GetFileSystemEntries(folder).Order(StringComparer.Ordinal)] : [];

    private static string? LinkName(string path)
    {
        var target = new FileInfo(path).LinkTarget;
        return target is null ? null : Path.GetFileName(target.TrimEnd('/'));
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string[] ReadNulSeparated(string path) =>
        ReadText(path)?.Split('\0', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}

using Vfio.Native;
using Vfio.Platform.Preparation;

namespace Vfio.Platform.Tests;

/// <summary>A sysfs and /dev tree in a temporary folder with one platform device, and a kernel
/// simulation that reacts to writes the way the driver core does: unbind removes the driver link,
/// drivers_probe binds the override (or the device's native driver) and, for a VFIO driver, makes
/// the IOMMU group link and the group node.</summary>
internal sealed class FakeSysfsTree : Sysfs, IDisposable
{
    public const string Device = "ff170000.mmc", NativeDriver = "sdhci-arasan";

    private readonly DirectoryInfo _root;

    public FakeSysfsTree(string? boundTo = NativeDriver)
        : this(Directory.CreateTempSubdirectory("vfio-sysfs"), boundTo)
    {
    }

    private FakeSysfsTree(DirectoryInfo root, string? boundTo)
        : base(Path.Combine(root.FullName, "sys"), Path.Combine(root.FullName, "dev"))
    {
        _root = root;
        foreach (var driver in new[] { NativeDriver, "vfio-platform" })
        {
            Directory.CreateDirectory(Path.Combine(SysfsRoot, "bus", "platform", "drivers", driver));
            File.WriteAllText(Path.Combine(SysfsRoot, "bus", "platform", "drivers", driver, "unbind"), "");
        }

        Directory.CreateDirectory(DevicePath);
        Directory.CreateDirectory(Path.Combine(SysfsRoot, "kernel", "iommu_groups", "0"));
        Directory.CreateDirectory(Path.Combine(DevRoot, "vfio"));
        File.WriteAllText(Path.Combine(SysfsRoot, "bus", "platform", "drivers_probe"), "");
        File.WriteAllText(Path.Combine(DevicePath, "driver_override"), "(null)\n");
        if (boundTo is not null)
        {
            BindTo(boundTo);
        }
    }

    public List<(string Path, string Value)> Writes { get; } = [];

    /// <summary>When set, drivers_probe with this driver in driver_override binds nothing (the driver refused).</summary>
    public string? RefusingDriver { get; set; }

    /// <summary>Writes to a path ending with this fail with the errno.</summary>
    public (string Suffix, int Errno)? FailingWrite { get; set; }

    public string DevicePath => Path.Combine(SysfsRoot, "bus", "platform", "devices", Device);

    public VfioBindOptions Options => new() { SysfsRoot = SysfsRoot, DevRoot = DevRoot, Timeout = TimeSpan.FromMilliseconds(200) };

    public string? BoundDriver => LinkName(Path.Combine(DevicePath, "driver"));

    public string Relative(string path) => Path.GetRelativePath(_root.FullName, path);

    public override int Write(string path, string value)
    {
        if (FailingWrite is { } failing && path.EndsWith(failing.Suffix, StringComparison.Ordinal))
        {
            return -failing.Errno;
        }

        var result = base.Write(path, value);
        if (result < 0)
        {
            return result;
        }

        Writes.Add((Relative(path), value));
        if (path.EndsWith("/unbind", StringComparison.Ordinal))
        {
            File.Delete(Path.Combine(DevicePath, "driver"));
        }
        else if (path.EndsWith("/drivers_probe", StringComparison.Ordinal))
        {
            var requested = ReadText(Path.Combine(DevicePath, "driver_override"));
            var driver = string.IsNullOrWhiteSpace(requested) || requested == "(null)" ? NativeDriver : requested;
            if (driver != RefusingDriver && BoundDriver is null)
            {
                BindTo(driver);
            }
        }

        return 0;
    }

    public void Dispose() => _root.Delete(recursive: true);

    private void BindTo(string driver)
    {
        File.CreateSymbolicLink(Path.Combine(DevicePath, "driver"), Path.Combine(SysfsRoot, "bus", "platform", "drivers", driver));
        if (driver.StartsWith("vfio", StringComparison.Ordinal) && !Exists(Path.Combine(DevicePath, "iommu_group")))
        {
            File.CreateSymbolicLink(Path.Combine(DevicePath, "iommu_group"), Path.Combine(SysfsRoot, "kernel", "iommu_groups", "0"));
            File.WriteAllText(Path.Combine(DevRoot, "vfio", "noiommu-0"), "");
        }
    }
}

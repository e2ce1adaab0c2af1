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
        : base(Path.Combine(root.FullName, "sys"), Path.Combine(root.FullName, "dev"), Path.Combine(root.FullName, "proc"))
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
        Directory.CreateDirectory(Path.Combine(ProcRoot, "self"));
        File.WriteAllText(Path.Combine(ProcRoot, "self", "mountinfo"), "22 1 0:21 / /proc rw,nosuid - proc proc rw\n");
        File.WriteAllText(Path.Combine(ProcRoot, "swaps"), "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        if (boundTo is not null)
        {
            BindTo(boundTo);
        }
    }

    public List<(string Path, string Value)> Writes { get; } = [];

    /// <summary>When set, the sysfs write with this number (1-based, counting every write) fails with EIO.</summary>
    public int? FailingWriteNumber { get; set; }

    /// <summary>Called before every write that goes through (to look at the state just before it).</summary>
    public Action<string>? BeforeWrite { get; set; }

    /// <summary>What <see cref="TryOpen"/> answers for a path ending with the key (a block device in use: EBUSY).</summary>
    public Dictionary<string, int> OpenResults { get; } = [];

    private int _writeCount;

    public string StateDirectory => Path.Combine(_root.FullName, "run", "vfio-net");

    public string Parameter(string module, string name) => Path.Combine(SysfsRoot, "module", module, "parameters", name);

    /// <summary>Creates a module parameter file with <paramref name="value"/>.</summary>
    public void SetParameter(string module, string name, string value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Parameter(module, name))!);
        File.WriteAllText(Parameter(module, name), value);
    }

    public string? ReadParameter(string module, string name) => ReadText(Parameter(module, name));

    /// <summary>An SD card below the controller as the mmc core makes it: mmcblk0 (179:0) and mmcblk0p1 (179:8),
    /// their class/block entries and device nodes.</summary>
    public void AddCard()
    {
        var disk = Path.Combine(DevicePath, "mmc_host", "mmc0", "mmc0:0001", "block", "mmcblk0");
        foreach (var (folder, name, number) in new[] { (disk, "mmcblk0", "179:0"), (Path.Combine(disk, "mmcblk0p1"), "mmcblk0p1", "179:8") })
        {
            Directory.CreateDirectory(Path.Combine(folder, "holders"));
            File.WriteAllText(Path.Combine(folder, "dev"), number + "\n");
            File.WriteAllText(Path.Combine(folder, "uevent"), $"MAJOR={number.Split(':')[0]}\nMINOR={number.Split(':')[1]}\nDEVNAME={name}\nDEVTYPE=disk\n");
            Directory.CreateDirectory(Path.Combine(SysfsRoot, "class", "block"));
            File.CreateSymbolicLink(Path.Combine(SysfsRoot, "class", "block", name), folder);
            File.WriteAllText(Path.Combine(DevRoot, name), "");
        }
    }

    /// <summary>A process in the fake /proc with a start time (field 22 of its stat line) and open files.</summary>
    public void AddProcess(int pid, long startTime, params string[] openFiles)
    {
        var folder = Path.Combine(ProcRoot, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(Path.Combine(folder, "fd"));
        var fields = string.Join(' ', Enumerable.Range(3, 50).Select(n => n == 22 ? startTime.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0"));
        File.WriteAllText(Path.Combine(folder, "stat"), $"{pid} (fake (proc)) {fields}\n");
        File.WriteAllText(Path.Combine(folder, "comm"), "fakeproc\n");
        for (var i = 0; i < openFiles.Length; i++)
        {
            File.CreateSymbolicLink(Path.Combine(folder, "fd", (3 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)), openFiles[i]);
        }
    }

    public List<(string Path, uint Uid, uint Gid)> Chowns { get; } = [];

    /// <summary>What chown answers (0, or a negative errno); the fake records the call and changes nothing.</summary>
    public int ChownResult { get; set; }

    public override int Chown(string path, uint uid, uint gid)
    {
        Chowns.Add((Relative(path), uid, gid));
        return ChownResult;
    }

    /// <summary>Files and folders (by the end of their path) that read as a process's would when it is gone
    /// or not ours: no text, no entries.</summary>
    public List<string> Unreadable { get; } = [];

    public override string? ReadText(string path) => IsUnreadable(path) ? null : base.ReadText(path);

    public override IReadOnlyList<string> Entries(string directory) => IsUnreadable(directory) ? [] : base.Entries(directory);

    private bool IsUnreadable(string path) => Unreadable.Any(u => path.EndsWith(u, StringComparison.Ordinal));

    public override int TryOpen(string path, bool exclusive) =>
        OpenResults.FirstOrDefault(r => path.EndsWith(r.Key, StringComparison.Ordinal)) is { Key: not null } hit ? hit.Value : base.TryOpen(path, exclusive);

    /// <summary>When set, drivers_probe with this driver in driver_override binds nothing (the driver refused).</summary>
    public string? RefusingDriver { get; set; }

    /// <summary>When false, binding a VFIO driver makes the group link but no node under /dev/vfio (no devtmpfs).</summary>
    public bool CreatesGroupNode { get; set; } = true;

    /// <summary>Writes to a path ending with this fail with the errno.</summary>
    public (string Suffix, int Errno)? FailingWrite { get; set; }

    public string DevicePath => Path.Combine(SysfsRoot, "bus", "platform", "devices", Device);

    public VfioBindOptions Options => new()
    {
        SysfsRoot = SysfsRoot,
        DevRoot = DevRoot,
        ProcRoot = ProcRoot,
        StateDirectory = StateDirectory,
        Timeout = TimeSpan.FromMilliseconds(200),
    };

    public string RecordPath => Path.Combine(StateDirectory, Device + ".json");

    public string? BoundDriver => LinkName(Path.Combine(DevicePath, "driver"));

    public string Relative(string path) => Path.GetRelativePath(_root.FullName, path);

    public override int Write(string path, string value)
    {
        if (FailingWrite is { } failing && path.EndsWith(failing.Suffix, StringComparison.Ordinal))
        {
            return -failing.Errno;
        }

        if (++_writeCount == FailingWriteNumber)
        {
            return -Errno.EIO;
        }

        BeforeWrite?.Invoke(path);

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
            if (CreatesGroupNode)
            {
                File.WriteAllText(Path.Combine(DevRoot, "vfio", "noiommu-0"), "");
            }
        }
    }
}

using System.Globalization;
using Vfio.Native;

namespace Vfio.Platform.Preparation;

/// <summary>Who uses a device right now: the block devices below it (a card or disk that is mounted,
/// swapped on, held by another block device or opened exclusively), and the processes that hold its
/// VFIO nodes open. Devices are matched by number (<c>major:minor</c>), never by a node's name: a root
/// file system shows as <c>/dev/root</c>, and anyone can <c>mknod</c> another name. Every look-up, procfs
/// included, goes through <see cref="ISysfs"/>, so a test's tree answers them all.</summary>
internal static class DeviceUsers
{
    private const int MaxDepth = 8;

    /// <summary>A block device below a device in sysfs: its name, <c>major:minor</c> and sysfs folder.</summary>
    internal sealed record BlockDevice(string Name, string Number, string SysfsPath);

    /// <summary>The block devices (disks and partitions) anywhere below <paramref name="devicePath"/>.</summary>
    public static List<BlockDevice> BlockDevicesBelow(ISysfs sysfs, string devicePath)
    {
        var found = new List<BlockDevice>();
        var classBlock = Path.Combine(sysfs.SysfsRoot, "class", "block");
        Walk(devicePath, 0);
        return found;

        void Walk(string folder, int depth)
        {
            foreach (var child in sysfs.Entries(folder))
            {
                if (sysfs.LinkTarget(child) is not null || !sysfs.IsDirectory(child))
                {
                    continue; // driver, subsystem, iommu_group...: links lead out of the device
                }

                var name = Path.GetFileName(child);
                if (sysfs.ReadText(Path.Combine(child, "dev")) is { } number && sysfs.Exists(Path.Combine(classBlock, name)))
                {
                    found.Add(new BlockDevice(name, number, child));
                }

                if (depth < MaxDepth)
                {
                    Walk(child, depth + 1);
                }
            }
        }
    }

    /// <summary>Every use of the block devices below <paramref name="devicePath"/>, one line each
    /// (<c>mmcblk0p2 (179:2) mounted on /</c>); empty when none is in use.</summary>
    public static List<string> BlockDeviceUses(ISysfs sysfs, string devicePath)
    {
        var uses = new List<string>();
        var blocks = BlockDevicesBelow(sysfs, devicePath);
        if (blocks.Count == 0)
        {
            return uses;
        }

        var byNumber = blocks.ToDictionary(b => b.Number, StringComparer.Ordinal);
        // mountinfo: "36 35 179:2 / /mnt rw,... - ext2 /dev/root rw": field 3 is the device number.
        foreach (var line in ReadLines(sysfs, Path.Combine(sysfs.ProcRoot, "self", "mountinfo")))
        {
            var f = line.Split(' ');
            if (f.Length > 4 && byNumber.TryGetValue(f[2], out var block))
            {
                uses.Add($"{Describe(block)} mounted on {Unescape(f[4])}");
            }
        }

        // /proc/swaps names a node; resolve links (/dev/disk/by-uuid/...) and match the node's name too.
        // A swap under another name still holds the device exclusively: the O_EXCL open below sees it.
        foreach (var line in ReadLines(sysfs, Path.Combine(sysfs.ProcRoot, "swaps")).Skip(1))
        {
            var node = line.Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (node is null)
            {
                continue;
            }

            var target = Path.GetFileName(sysfs.ResolveLink(node));
            if (blocks.FirstOrDefault(b => b.Name == target) is { } swapped)
            {
                uses.Add($"{Describe(swapped)} is swap ({Unescape(node)})");
            }
        }

        foreach (var block in blocks)
        {
            foreach (var holder in sysfs.Entries(Path.Combine(block.SysfsPath, "holders")).Select(Path.GetFileName))
            {
                uses.Add($"{Describe(block)} is held by {holder}");
            }
        }

        // The kernel's own answer, which also covers mounts in other namespaces, RAID members and
        // programs that opened the device exclusively: a block device in use refuses O_EXCL.
        foreach (var block in blocks)
        {
            var devName = DevName(sysfs, block);
            var node = Path.Combine(sysfs.DevRoot, devName);
            if (!sysfs.Exists(node))
            {
                continue;
            }

            var result = sysfs.TryOpen(node, exclusive: true);
            if (result == -Errno.EBUSY && !uses.Any(u => u.StartsWith(Describe(block), StringComparison.Ordinal)))
            {
                uses.Add($"{Describe(block)} is busy: the kernel refuses {node} an exclusive open (mounted in another namespace, swap, RAID or a program holds it)");
            }
        }

        return uses;
    }

    /// <summary>The processes other than this one that hold any of <paramref name="nodes"/> open, as
    /// <c>pid 1234 (name)</c>; processes whose descriptors cannot be read are not seen.</summary>
    public static List<string> Holders(ISysfs sysfs, IReadOnlyCollection<string> nodes)
    {
        var holders = new List<string>();
        if (nodes.Count == 0)
        {
            return holders;
        }

        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var process in sysfs.Entries(sysfs.ProcRoot))
        {
            var pid = Path.GetFileName(process);
            if (pid == self || !pid.All(char.IsAsciiDigit))
            {
                continue;
            }

            // A process gone meanwhile, or not ours to read, lists no descriptors.
            var holds = sysfs.Entries(Path.Combine(process, "fd"))
                .Select(sysfs.LinkTarget)
                .Any(target => target is not null && nodes.Contains(target));
            if (holds)
            {
                holders.Add($"pid {pid} ({sysfs.ReadText(Path.Combine(process, "comm")) ?? "?"})");
            }
        }

        return holders;
    }

    private static string Describe(BlockDevice block) => $"{block.Name} ({block.Number})";

    private static string DevName(ISysfs sysfs, BlockDevice block) =>
        (sysfs.ReadText(Path.Combine(block.SysfsPath, "uevent")) ?? "")
        .Split('\n')
        .Select(l => l.Trim())
        .FirstOrDefault(l => l.StartsWith("DEVNAME=", StringComparison.Ordinal))?["DEVNAME=".Length..] ?? block.Name;

    /// <summary>mountinfo and swaps escape blanks and backslashes as octal (<c>\040</c>).</summary>
    private static string Unescape(string field) =>
        System.Text.RegularExpressions.Regex.Replace(field, @"\\([0-7]{3})",
            m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());

    private static string[] ReadLines(ISysfs sysfs, string path) =>
        sysfs.ReadText(path)?.Split('\n') ?? [];
}

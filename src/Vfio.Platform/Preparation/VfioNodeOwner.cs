using System.Globalization;

namespace Vfio.Platform.Preparation;

/// <summary>The user (and group) a binding gives the device's VFIO nodes to, so that the program using
/// the device runs without root: the group node (<c>/dev/vfio/N</c>) and the device cdevs
/// (<c>/dev/vfio/devices/vfioX</c>). The kernel makes those nodes anew, owned by root, each time the
/// device is bound to VFIO, and removes them when it leaves, so the change lasts exactly as long as
/// the binding.</summary>
/// <param name="Uid">The user's id.</param>
/// <param name="Gid">The group's id.</param>
public sealed record VfioNodeOwner(uint Uid, uint Gid)
{
    /// <summary>Parses <c>USER[:GROUP]</c>, by name (looked up in <c>/etc/passwd</c> and <c>/etc/group</c>)
    /// or number; without a group, the user's primary group.</summary>
    /// <exception cref="ArgumentException">No such user or group.</exception>
    public static VfioNodeOwner Parse(string text, string etc = "/etc")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var parts = text.Split(':', 2);
        var user = Lookup(Path.Combine(etc, "passwd"), parts[0]);
        uint uid;
        uint? primary = null;
        if (user is not null)
        {
            uid = uint.Parse(user[2], CultureInfo.InvariantCulture);
            primary = uint.Parse(user[3], CultureInfo.InvariantCulture);
        }
        else if (!uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out uid))
        {
            throw new ArgumentException($"no user '{parts[0]}' in {Path.Combine(etc, "passwd")}", nameof(text));
        }

        uint gid;
        if (parts.Length == 1 || parts[1].Length == 0)
        {
            gid = primary ?? uid;
        }
        else if (Lookup(Path.Combine(etc, "group"), parts[1]) is { } group)
        {
            gid = uint.Parse(group[2], CultureInfo.InvariantCulture);
        }
        else if (!uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out gid))
        {
            throw new ArgumentException($"no group '{parts[1]}' in {Path.Combine(etc, "group")}", nameof(text));
        }

        return new VfioNodeOwner(uid, gid);
    }

    /// <summary>What the owner still needs besides the nodes, one sentence each.</summary>
    public static IReadOnlyList<string> StillNeeded(bool noIommu, bool iommufd) =>
        noIommu
            ? ["A no-IOMMU group opens only with CAP_SYS_RAWIO (the kernel's rule: such a device can DMA anywhere), so its user needs that capability, and CAP_SYS_ADMIN to read physical addresses from /proc/self/pagemap for DMA."]
            : iommufd
                ? ["DMA pins memory: raise the user's locked-memory limit (ulimit -l, limits.conf) to the buffers' size.", "The iommufd path also opens /dev/iommu (root, 0660): give the user its group, or use the group node and /dev/vfio/vfio (0666)."]
                : ["DMA pins memory: raise the user's locked-memory limit (ulimit -l, limits.conf) to the buffers' size."];

    private static string[]? Lookup(string file, string name)
    {
        try
        {
            return File.ReadLines(file).Select(l => l.Split(':')).FirstOrDefault(f => f.Length > 3 && f[0] == name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal void Apply(ISysfs sysfs, string device, IEnumerable<string> nodes)
    {
        foreach (var node in nodes)
        {
            var result = sysfs.Chown(node, Uid, Gid);
            if (result < 0)
            {
                throw new VfioException("chown", device, -result, $"Could not give {node} to {Uid}:{Gid}; changing a node's owner needs root.");
            }
        }
    }
}

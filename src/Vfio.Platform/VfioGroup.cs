using System.Globalization;
using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Kernel;
using Vfio.Platform.Preparation;

namespace Vfio.Platform;

/// <summary>An IOMMU group (<c>/dev/vfio/N</c>) attached to a <see cref="VfioContainer"/>: the unit of
/// isolation. Devices are opened from it.</summary>
public sealed class VfioGroup : IDisposable, IVfioDeviceOwner
{
    private readonly VfioContainer _container;
    private readonly KernelFd _fd;
    private readonly List<VfioDevice> _devices = [];
    private bool _attached;

    private VfioGroup(VfioContainer container, KernelFd fd, string path, bool isNoIommu)
    {
        _container = container;
        _fd = fd;
        Path = path;
        IsNoIommu = isNoIommu;
    }

    /// <summary>The group node.</summary>
    public string Path { get; }

    /// <summary>A no-IOMMU group: no isolation, no DMA mapping.</summary>
    public bool IsNoIommu { get; }

    /// <summary>The container the group is attached to.</summary>
    public VfioContainer Container => _container;

    internal ISyscalls Sys => _container.Sys;

    /// <summary>The IOMMU group number of a device from sysfs: the name of the <c>iommu_group</c> link
    /// of <c>/sys/bus/{platform,pci,amba}/devices/NAME</c>.</summary>
    /// <exception cref="VfioException">No such device, or it has no IOMMU group.</exception>
    public static int GroupNumberOf(string deviceName, string sysfsRoot = Sysfs.DefaultRoot) => GroupNumberOf(new Sysfs(sysfsRoot), deviceName);

    internal static int GroupNumberOf(ISysfs sysfs, string deviceName)
    {
        if (Discovery.SysfsDevices.Find(sysfs, deviceName, "GroupNumberOf") is { } found)
        {
            var device = found.Path;
            var group = sysfs.LinkName(System.IO.Path.Combine(device, "iommu_group"));
            if (group is null)
            {
                throw new VfioException("iommu_group", deviceName, Errno.ENODEV,
                    $"{device} has no IOMMU group: bind it to vfio-platform or vfio-pci first (VfioDeviceBinding.Bind).");
            }

            return int.Parse(group, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        throw new VfioException("find device", deviceName, Errno.ENODEV, Discovery.SysfsDevices.NotFound(sysfs, deviceName));
    }

    /// <summary>The devices of IOMMU group <paramref name="number"/> and their drivers, from sysfs
    /// (<c>/sys/kernel/iommu_groups/N/devices</c>), in name order: what decides whether the group is viable.</summary>
    /// <param name="number">The IOMMU group number (<see cref="GroupNumberOf(string, string)"/>).</param>
    /// <param name="sysfsRoot">The sysfs mount.</param>
    /// <returns>The members; empty when sysfs has no such group.</returns>
    /// <example>
    /// <code>
    /// var blocking = VfioGroup.MembersOf(VfioGroup.GroupNumberOf("0000:00:01.0"))
    ///     .Where(m => m.Driver is not (null or "vfio-pci"));
    /// </code>
    /// </example>
    public static IReadOnlyList<VfioGroupMember> MembersOf(int number, string sysfsRoot = Sysfs.DefaultRoot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        return Discovery.SysfsDevices.GroupMembers(new Sysfs(sysfsRoot), number.ToString(CultureInfo.InvariantCulture));
    }

    internal static VfioGroup Open(VfioContainer container, string path, bool isNoIommu)
    {
        var sys = container.Sys;
        var fd = sys.Open(path, LibcConstants.O_RDWR | LibcConstants.O_CLOEXEC);
        if (fd < 0)
        {
            throw new VfioException("open", path, -fd, ErrnoHints.For(KernelCall.OpenGroup, -fd, path));
        }

        var group = new VfioGroup(container, new KernelFd(sys, fd), path, isNoIommu);
        try
        {
            group.CheckViableAndAttach();
            return group;
        }
        catch
        {
            group.Dispose();
            throw;
        }
    }

    private void CheckViableAndAttach()
    {
        var status = new vfio_group_status { argsz = Structs.Size<vfio_group_status>() };
        var result = Sys.Ioctl(_fd.Fd, VfioUapi.VFIO_GROUP_GET_STATUS, Structs.Bytes(ref status));
        if (result < 0)
        {
            throw new VfioException("VFIO_GROUP_GET_STATUS", Path, -result);
        }

        if ((status.flags & VfioUapi.VFIO_GROUP_FLAGS_VIABLE) == 0)
        {
            throw new VfioException("VFIO_GROUP_GET_STATUS", Path, Errno.EPERM,
                $"The group is not viable: every device in it must be bound to a VFIO driver or to none. {DescribeMembers()}");
        }

        var containerFd = _container.Fd.Fd;
        result = Sys.Ioctl(_fd.Fd, VfioUapi.VFIO_GROUP_SET_CONTAINER, Structs.Bytes(ref containerFd));
        if (result < 0)
        {
            throw new VfioException("VFIO_GROUP_SET_CONTAINER", Path, -result);
        }

        _attached = true;
    }

    /// <summary>Names the devices of the group and their drivers, for the not-viable message.</summary>
    private string DescribeMembers()
    {
        var name = System.IO.Path.GetFileName(Path).Replace("noiommu-", "", StringComparison.Ordinal);
        var members = Discovery.SysfsDevices.GroupMembers(_container.Sysfs, name);
        return members.Count == 0 ? "" : $"Members: {string.Join(", ", members.Select(m => $"{m.Name} ({m.Driver ?? "no driver"})"))}.";
    }

    /// <summary>Opens a device of the group by its name (platform device name or PCI address).</summary>
    /// <exception cref="VfioException">No such device in the group, or it is already open.</exception>
    public VfioDevice OpenDevice(string name)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        var device = VfioDevice.Open(this, name, _fd.Fd);
        _devices.Add(device);
        return device;
    }

    internal void Forget(VfioDevice device) => _devices.Remove(device);

    internal KernelFd Fd => _fd;

    /// <summary>Wraps a group descriptor received from another process (<see cref="Handover.VfioHandover"/>):
    /// nothing is opened or attached, the group must be viable and attached to a container already
    /// (<c>VFIO_GROUP_GET_STATUS</c>). The caller closes <paramref name="fd"/> when this throws.</summary>
    internal static VfioGroup Adopt(VfioContainer container, KernelFd fd, string path, bool isNoIommu)
    {
        var status = new vfio_group_status { argsz = Structs.Size<vfio_group_status>() };
        var result = container.Sys.Ioctl(fd.Fd, VfioUapi.VFIO_GROUP_GET_STATUS, Structs.Bytes(ref status));
        if (result < 0)
        {
            throw new VfioException("VFIO_GROUP_GET_STATUS", path, -result, "The descriptor received as the group is not a VFIO group.");
        }

        var flags = status.flags;
        if ((flags & VfioUapi.VFIO_GROUP_FLAGS_VIABLE) == 0 || (flags & VfioUapi.VFIO_GROUP_FLAGS_CONTAINER_SET) == 0)
        {
            throw new VfioException("VFIO_GROUP_GET_STATUS", path, Errno.EPROTO,
                $"The group received is not viable and attached to a container (flags 0x{flags:x}): the sender must send an opened device.");
        }

        return new VfioGroup(container, fd, path, isNoIommu) { _attached = true };
    }

    /// <summary>Wraps a received device descriptor of this group (<c>VFIO_DEVICE_GET_INFO</c>).</summary>
    internal VfioDevice AdoptDevice(KernelFd fd, string name)
    {
        var device = VfioDevice.FromFd(this, fd, name);
        _devices.Add(device);
        return device;
    }

    /// <summary>Whether <paramref name="device"/> is the group's only open device.</summary>
    internal bool IsExclusiveTo(VfioDevice device) => _devices.Count == 1 && ReferenceEquals(_devices[0], device);

    /// <summary>After a handover: closes this process's descriptor without <c>VFIO_GROUP_UNSET_CONTAINER</c>,
    /// which would detach the group the receiver now uses (the open file is shared).</summary>
    internal void Relinquish()
    {
        _devices.Clear();
        _attached = false;
        _fd.Dispose();
        _container.Forget(this);
    }

    ISyscalls IVfioDeviceOwner.Sys => Sys;

    IDmaSpace? IVfioDeviceOwner.DmaSpace => IsNoIommu ? null : _container;

    void IVfioDeviceOwner.Forget(VfioDevice device) => Forget(device);

    /// <summary>Closes the group's devices, detaches it from the container and closes it.</summary>
    public void Dispose()
    {
        if (_fd.IsClosed)
        {
            return;
        }

        foreach (var device in _devices.ToArray())
        {
            device.Dispose();
        }

        if (_attached)
        {
            // Closing the group detaches it too; unsetting first makes an error visible in the log.
            _ = Sys.Ioctl(_fd.Fd, VfioUapi.VFIO_GROUP_UNSET_CONTAINER, 0);
            _attached = false;
        }

        _fd.Dispose();
        _container.Forget(this);
    }
}

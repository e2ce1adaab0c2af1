using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Iommufd;

/// <summary>An iommufd (<c>/dev/iommu</c>; the kernel's <c>struct iommufd_ctx</c>): the iommufd back-end of VFIO ( Linux 6.6 and later with
/// <c>CONFIG_IOMMUFD</c> and <c>CONFIG_VFIO_DEVICE_CDEV</c>): devices are opened through their own cdev
/// (<c>/dev/vfio/devices/vfioN</c>) instead of a group, bound to this iommufd, and attached to an
/// <see cref="IoAddressSpace"/> where DMA is mapped. The <see cref="VfioDevice"/> you get behaves exactly
/// like one opened through a group.</summary>
/// <remarks>Dispose order is the kernel's: devices, then address spaces, then the iommufd; disposing an
/// object disposes what it owns first.</remarks>
/// <example>
/// <code>
/// using var iommufd = IommufdContext.Open();
/// var device = iommufd.OpenDevice("0000:00:01.0");      // bound to vfio-pci
/// using var regs = device.MapRegion(0);
/// using var buffer = DmaBuffer.Allocate(4096);
/// using var mapping = device.DmaSpace!.MapDma(buffer);  // IOMMU_IOAS_MAP
/// </code>
/// </example>
public sealed class IommufdContext : IDisposable
{
    private readonly ISyscalls _sys;
    private readonly KernelFd _fd;
    private readonly List<IoAddressSpace> _spaces = [];
    private IoAddressSpace? _default;

    private IommufdContext(ISyscalls sys, KernelFd fd, IommufdOptions options)
    {
        _sys = sys;
        _fd = fd;
        Options = options;
    }

    /// <summary>The paths in use.</summary>
    public IommufdOptions Options { get; }

    internal ISyscalls Sys => _sys;

    internal KernelFd Fd => _fd;

    /// <summary>True when this kernel offers iommufd and <paramref name="deviceName"/> has a VFIO device cdev,
    /// i.e. <see cref="OpenDevice"/> can work (given permissions).</summary>
    /// <param name="deviceName">A device bound to a VFIO driver.</param>
    /// <param name="options">Paths; the defaults when null.</param>
    /// <returns>Whether both nodes exist.</returns>
    public static bool IsAvailableFor(string deviceName, IommufdOptions? options = null)
    {
        options ??= new IommufdOptions();
        return File.Exists(options.IommufdPath) && FindCdev(deviceName, options) is not null;
    }

    /// <summary>Opens <c>/dev/iommu</c>.</summary>
    /// <param name="options">Paths; the defaults when null.</param>
    /// <returns>The iommufd.</returns>
    /// <exception cref="VfioException">The node is missing (kernel without <c>CONFIG_IOMMUFD</c>) or not accessible.</exception>
    public static IommufdContext Open(IommufdOptions? options = null) => Open(LinuxSyscalls.Instance, options ?? new IommufdOptions());

    internal static IommufdContext Open(ISyscalls sys, IommufdOptions options)
    {
        var fd = sys.Open(options.IommufdPath, LibcConstants.O_RDWR | LibcConstants.O_CLOEXEC);
        if (fd < 0)
        {
            throw new VfioException("open", options.IommufdPath, -fd, ErrnoHints.For(KernelCall.OpenIommufd, -fd, $"{options.IommufdPath} and the device's cdev"));
        }

        return new IommufdContext(sys, new KernelFd(sys, fd), options);
    }

    /// <summary>A new, empty I/O address space (<c>IOMMU_IOAS_ALLOC</c>). Devices attached to the same address
    /// space share its DMA mappings.</summary>
    /// <returns>The address space, owned by this iommufd.</returns>
    public IoAddressSpace CreateAddressSpace()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        var space = IoAddressSpace.Allocate(this);
        _spaces.Add(space);
        return space;
    }

    /// <summary>Opens <paramref name="deviceName"/> through its VFIO cdev, binds it to this iommufd
    /// (<c>VFIO_DEVICE_BIND_IOMMUFD</c>) and attaches it to <paramref name="addressSpace"/>
    /// (<c>VFIO_DEVICE_ATTACH_IOMMUFD_PT</c>), or to one address space this iommufd creates for all devices
    /// opened without one.</summary>
    /// <param name="deviceName">A platform device name or PCI address, bound to a VFIO driver.</param>
    /// <param name="addressSpace">Where its DMA is mapped; null for the shared default one.</param>
    /// <returns>The device; <see cref="VfioDevice.DmaSpace"/> is the address space.</returns>
    /// <exception cref="VfioException">No cdev (not bound to VFIO, or a kernel without
    /// <c>CONFIG_VFIO_DEVICE_CDEV</c>), the device is open elsewhere, or the kernel refused.</exception>
    public VfioDevice OpenDevice(string deviceName, IoAddressSpace? addressSpace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceName);
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        if (addressSpace is not null && !_spaces.Contains(addressSpace))
        {
            throw new ArgumentException("The address space belongs to another iommufd or is disposed.", nameof(addressSpace));
        }

        var cdev = FindCdev(deviceName, Options) ?? throw new VfioException("find device cdev", deviceName, Errno.ENODEV,
            $"{deviceName} has no VFIO device cdev (no {Options.SysfsRoot}/bus/*/devices/{deviceName}/vfio-dev/vfioN): bind it to vfio-platform or vfio-pci first " +
            "(VfioDeviceBinding.Bind), and check that the kernel has CONFIG_VFIO_DEVICE_CDEV.");
        var space = addressSpace ?? (_default ??= CreateAddressSpace());
        return space.Attach(deviceName, cdev);
    }

    /// <summary>Wraps an iommufd descriptor received from another process (<see cref="Handover.VfioHandover"/>);
    /// <see cref="AdoptAddressSpace"/> checks it.</summary>
    internal static IommufdContext Adopt(ISyscalls sys, KernelFd fd) => new(sys, fd, new IommufdOptions());

    /// <summary>Wraps an existing IOAS of this iommufd by id, checked with <c>IOMMU_IOAS_IOVA_RANGES</c>.</summary>
    internal IoAddressSpace AdoptAddressSpace(uint id)
    {
        var space = IoAddressSpace.Adopt(this, id);
        _spaces.Add(space);
        return space;
    }

    /// <summary>Whether <paramref name="space"/> is this iommufd's only address space.</summary>
    internal bool IsExclusiveTo(IoAddressSpace space) => _spaces.Count == 1 && ReferenceEquals(_spaces[0], space);

    /// <summary>After a handover: closes this process's descriptor; the iommufd lives on in the receiver.</summary>
    internal void Relinquish()
    {
        _spaces.Clear();
        _default = null;
        _fd.Dispose();
    }

    internal void Forget(IoAddressSpace space)
    {
        _spaces.Remove(space);
        if (ReferenceEquals(space, _default))
        {
            _default = null;
        }
    }

    /// <summary>The cdev path of a device from sysfs, or null.</summary>
    /// <param name="deviceName">The device.</param>
    /// <param name="options">Paths.</param>
    /// <returns>For example <c>/dev/vfio/devices/vfio0</c>.</returns>
    public static string? FindCdev(string deviceName, IommufdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sysfs = new Preparation.Sysfs(options.SysfsRoot);
        return Discovery.SysfsDevices.Find(sysfs, deviceName, "FindCdev") is { } found
            && Discovery.SysfsDevices.CdevName(sysfs, found.Path) is { } node
            ? Path.Combine(options.DeviceDirectory, node)
            : null;
    }

    /// <summary>Closes every device and address space, then the iommufd.</summary>
    public void Dispose()
    {
        if (_fd.IsClosed)
        {
            return;
        }

        foreach (var space in _spaces.ToArray())
        {
            space.Dispose();
        }

        _fd.Dispose();
    }
}

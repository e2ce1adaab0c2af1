using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Iommufd;

/// <summary>An iommufd I/O address space (IOAS): the DMA mappings of the devices attached to it
/// (<c>IOMMU_IOAS_MAP</c> / <c>IOMMU_IOAS_UNMAP</c>). Created by <see cref="IommufdContext.CreateAddressSpace"/>.</summary>
public sealed class IoAddressSpace : IDmaSpace, IDmaUnmapper, IDisposable, IVfioDeviceOwner
{
    private readonly IommufdContext _iommufd;
    private readonly List<VfioDevice> _devices = [];
    private readonly List<DmaMapping> _mappings = [];
    private bool _destroyed;

    private IoAddressSpace(IommufdContext iommufd, uint id)
    {
        _iommufd = iommufd;
        Id = id;
    }

    /// <summary>The IOAS id in the iommufd.</summary>
    public uint Id { get; }

    /// <summary>The devices attached to this address space.</summary>
    public IReadOnlyList<VfioDevice> Devices => _devices;

    private ISyscalls Sys => _iommufd.Sys;

    private string Target => $"{_iommufd.Options.IommufdPath} IOAS {Id}";

    ISyscalls IVfioDeviceOwner.Sys => Sys;

    IDmaSpace? IVfioDeviceOwner.DmaSpace => this;

    internal static IoAddressSpace Allocate(IommufdContext iommufd)
    {
        var alloc = new iommu_ioas_alloc { size = Structs.Size<iommu_ioas_alloc>() };
        var result = iommufd.Sys.Ioctl(iommufd.Fd.Fd, IommufdUapi.IOMMU_IOAS_ALLOC, Structs.Bytes(ref alloc));
        if (result < 0)
        {
            throw new VfioException("IOMMU_IOAS_ALLOC", iommufd.Options.IommufdPath, -result);
        }

        return new IoAddressSpace(iommufd, alloc.out_ioas_id);
    }

    internal VfioDevice Attach(string deviceName, string cdevPath)
    {
        ObjectDisposedException.ThrowIf(_destroyed, this);
        var fd = Sys.Open(cdevPath, LibcConstants.O_RDWR | LibcConstants.O_CLOEXEC);
        if (fd < 0)
        {
            throw new VfioException("open", cdevPath, -fd, ErrnoHints.For(KernelCall.OpenCdev, -fd, cdevPath, deviceName));
        }

        var handle = new KernelFd(Sys, fd);
        try
        {
            var bind = new vfio_device_bind_iommufd { argsz = Structs.Size<vfio_device_bind_iommufd>(), iommufd = _iommufd.Fd.Fd };
            var result = Sys.Ioctl(fd, VfioUapi.VFIO_DEVICE_BIND_IOMMUFD, Structs.Bytes(ref bind));
            if (result < 0)
            {
                throw new VfioException("VFIO_DEVICE_BIND_IOMMUFD", deviceName, -result, ErrnoHints.For(KernelCall.BindIommufd, -result));
            }

            var attach = new vfio_device_attach_iommufd_pt { argsz = Structs.Size<vfio_device_attach_iommufd_pt>(), pt_id = Id };
            result = Sys.Ioctl(fd, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, Structs.Bytes(ref attach));
            if (result < 0)
            {
                throw new VfioException($"VFIO_DEVICE_ATTACH_IOMMUFD_PT({Id})", deviceName, -result,
                    -result == Errno.EINVAL ? "The device's IOMMU cannot share this address space (incompatible page table format); use a separate one." : null);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        var device = VfioDevice.FromFd(this, handle, deviceName);
        _devices.Add(device);
        return device;
    }

    void IVfioDeviceOwner.Forget(VfioDevice device) => _devices.Remove(device);

    /// <summary>Moves <paramref name="device"/>, open through this address space's iommufd and attached to
    /// another of its address spaces, to this one (<c>VFIO_DEVICE_ATTACH_IOMMUFD_PT</c> on an attached
    /// device replaces its page table in one step, Linux 6.6+). From then on the device's DMA is translated
    /// by this address space's mappings and <see cref="VfioDevice.DmaSpace"/> is this one; the mappings of
    /// the old one stay where they are. Stop the device's DMA first: a transfer in flight may complete
    /// through either address space. Enable MSI/MSI-X vectors after the move (dispose and enable them again
    /// if they were on): behind an SMMU, Linux before 6.15 maps the MSI doorbell only into the page table
    /// the device had when its vectors were enabled, so interrupts enabled before a move do not arrive after
    /// it (seen in the rig with an nvme on Linux 6.12; an address space's automatic page table is freed when
    /// its last device leaves, so moving back does not restore them either).</summary>
    /// <param name="device">A device from <see cref="IommufdContext.OpenDevice"/> of the same iommufd.</param>
    /// <exception cref="ArgumentException">The device was opened through a group, belongs to another
    /// iommufd, or is closed: checked before the kernel is asked.</exception>
    /// <exception cref="ObjectDisposedException">This address space is destroyed.</exception>
    /// <exception cref="VfioException">The kernel refused (EINVAL: the device's IOMMU cannot use this
    /// page table; the device stays where it was).</exception>
    public void Attach(VfioDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        ObjectDisposedException.ThrowIf(_destroyed, this);
        if (device.AddressSpace is not { } from || !from._devices.Contains(device) || !ReferenceEquals(from._iommufd, _iommufd))
        {
            throw new ArgumentException(
                $"{device.Name} is not attached to an address space of {_iommufd.Options.IommufdPath} (opened through a group, through another iommufd, or closed): only a device from this iommufd's OpenDevice can move to IOAS {Id}.",
                nameof(device));
        }

        if (ReferenceEquals(from, this))
        {
            return;
        }

        var attach = new vfio_device_attach_iommufd_pt { argsz = Structs.Size<vfio_device_attach_iommufd_pt>(), pt_id = Id };
        var result = Sys.Ioctl(device.Fd.Fd, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, Structs.Bytes(ref attach));
        if (result < 0)
        {
            throw new VfioException($"VFIO_DEVICE_ATTACH_IOMMUFD_PT({Id})", device.Name, -result,
                -result == Errno.EINVAL ? $"The device's IOMMU cannot use IOAS {Id}'s page table; it stays attached to IOAS {from.Id}." : null);
        }

        from._devices.Remove(device);
        _devices.Add(device);
        device.MoveTo(this);
    }

    internal IommufdContext Iommufd => _iommufd;

    /// <summary>Wraps IOAS <paramref name="id"/> of a received iommufd: <c>IOMMU_IOAS_IOVA_RANGES</c> checks that
    /// the descriptor is an iommufd and that the IOAS exists in it.</summary>
    internal static IoAddressSpace Adopt(IommufdContext iommufd, uint id)
    {
        var space = new IoAddressSpace(iommufd, id);
        try
        {
            _ = space.GetIommuInfo();
        }
        catch (VfioException e)
        {
            throw new VfioException(e.Operation, space.Target, e.Errno, $"The descriptor received as the iommufd is not one, or has no IOAS {id}.");
        }

        return space;
    }

    /// <summary>Wraps a received device descriptor bound to this iommufd and attached to this IOAS
    /// (<c>VFIO_DEVICE_GET_INFO</c>, which the kernel refuses on a cdev that is not bound).</summary>
    internal VfioDevice AdoptDevice(KernelFd fd, string name)
    {
        var device = VfioDevice.FromFd(this, fd, name);
        _devices.Add(device);
        return device;
    }

    /// <summary>Whether <paramref name="device"/> is the only device attached and no DMA is mapped.</summary>
    internal bool IsExclusiveTo(VfioDevice device) => _devices.Count == 1 && ReferenceEquals(_devices[0], device) && _mappings.Count == 0;

    /// <summary>After a handover: forgets the IOAS without <c>IOMMU_DESTROY</c>; it lives on in the receiver.</summary>
    internal void Relinquish()
    {
        _devices.Clear();
        _destroyed = true;
        _iommufd.Forget(this);
    }

    /// <summary><c>IOMMU_IOAS_IOVA_RANGES</c>: the IOVA ranges every attached device's IOMMU can translate
    /// (reserved regions such as the MSI window left out) and the required IOVA alignment, reported as the
    /// smallest page size.</summary>
    /// <returns>Page size and ranges.</returns>
    public VfioIommuInfo GetIommuInfo()
    {
        ObjectDisposedException.ThrowIf(_destroyed, this);
        var rangeSize = (int)Structs.Size<iommu_iova_range>();
        var count = 8;
        for (var attempt = 0; ; attempt++)
        {
            var ranges = new byte[count * rangeSize];
            var answer = new iommu_ioas_iova_ranges { size = Structs.Size<iommu_ioas_iova_ranges>(), ioas_id = Id, num_iovas = (uint)count };
            var result = Sys.Ioctl(_iommufd.Fd.Fd, IommufdUapi.IOMMU_IOAS_IOVA_RANGES, Structs.Bytes(ref answer), iommu_ioas_iova_ranges.AllowedIovasOffset, ranges);
            if (result < 0 && -result == Errno.EMSGSIZE && attempt == 0 && answer.num_iovas <= 4096)
            {
                count = (int)answer.num_iovas; // the kernel says how many there are
                continue;
            }

            if (result < 0)
            {
                throw new VfioException("IOMMU_IOAS_IOVA_RANGES", Target, -result);
            }

            var list = new List<(ulong, ulong)>();
            for (var i = 0; i < Math.Min(answer.num_iovas, (uint)count); i++)
            {
                var range = Structs.Read<iommu_iova_range>(ranges, i * rangeSize);
                list.Add((range.start, range.last));
            }

            var alignment = answer.out_iova_alignment is 0 ? (ulong)Environment.SystemPageSize : answer.out_iova_alignment;
            return new VfioIommuInfo(alignment, list, DmaMappingsAvailable: null);
        }
    }

    /// <summary>Maps <paramref name="buffer"/> into this address space (<c>IOMMU_IOAS_MAP</c>) at
    /// <paramref name="iova"/> (<c>IOMMU_IOAS_MAP_FIXED_IOVA</c>), or where the kernel's allocator puts it
    /// within the allowed ranges.</summary>
    /// <param name="buffer">Page-aligned pinned memory.</param>
    /// <param name="iova">A fixed I/O virtual address; null to let the kernel choose.</param>
    /// <param name="deviceWrites">False to map the buffer read-only for the devices.</param>
    /// <returns>The mapping; dispose it to unmap.</returns>
    /// <exception cref="VfioException">The kernel refused (overlap, outside the ranges, pinning limit).</exception>
    public DmaMapping MapDma(DmaBuffer buffer, ulong? iova = null, bool deviceWrites = true)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ObjectDisposedException.ThrowIf(_destroyed, this);
        var flags = iommufd_ioas_map_flags.IOMMU_IOAS_MAP_READABLE
            | (deviceWrites ? iommufd_ioas_map_flags.IOMMU_IOAS_MAP_WRITEABLE : 0)
            | (iova is null ? 0 : iommufd_ioas_map_flags.IOMMU_IOAS_MAP_FIXED_IOVA);
        var map = new iommu_ioas_map
        {
            size = Structs.Size<iommu_ioas_map>(),
            flags = (uint)flags,
            ioas_id = Id,
            user_va = (ulong)buffer.Address,
            length = (ulong)buffer.Length,
            iova = iova ?? 0,
        };
        var result = Sys.Ioctl(_iommufd.Fd.Fd, IommufdUapi.IOMMU_IOAS_MAP, Structs.Bytes(ref map));
        if (result < 0)
        {
            var where = iova is null ? $"{buffer.Length} bytes" : $"IOVA 0x{iova:x}+0x{buffer.Length:x}";
            throw new VfioException("IOMMU_IOAS_MAP", $"{Target}, {where}", -result, ErrnoHints.For(KernelCall.MapDmaIoas, -result));
        }

        buffer.AddMapping();
        var mapping = new DmaMapping(this, buffer, map.iova, allocated: iova is null);
        _mappings.Add(mapping);
        return mapping;
    }

    /// <summary>Unmaps everything mapped in this address space in one call: <c>IOMMU_IOAS_UNMAP</c> of IOVA 0
    /// with length <c>UINT64_MAX</c>, which the kernel takes as "all". Every <see cref="DmaMapping"/> of the
    /// address space is unmapped afterwards (<see cref="DmaMapping.IsUnmapped"/>; disposing it does nothing
    /// more) and its buffer can be freed.</summary>
    /// <returns>The bytes the kernel says it unmapped (0 when nothing was mapped).</returns>
    /// <exception cref="VfioException">The kernel refused: the mappings are kept as they were.</exception>
    public ulong UnmapAllDma()
    {
        ObjectDisposedException.ThrowIf(_destroyed, this);
        var unmap = new iommu_ioas_unmap { size = Structs.Size<iommu_ioas_unmap>(), ioas_id = Id, iova = 0, length = ulong.MaxValue };
        var result = Sys.Ioctl(_iommufd.Fd.Fd, IommufdUapi.IOMMU_IOAS_UNMAP, Structs.Bytes(ref unmap));
        if (result < 0)
        {
            throw new VfioException("IOMMU_IOAS_UNMAP(all)", Target, -result,
                "Every mapping is kept (IOVAs reserved, buffers not freed); destroying the address space drops them.");
        }

        foreach (var mapping in _mappings.ToArray())
        {
            _mappings.Remove(mapping);
            mapping.MarkUnmapped();
            mapping.Buffer.RemoveMapping();
        }

        return unmap.length;
    }

    void IDmaUnmapper.UnmapDma(DmaMapping mapping)
    {
        if (_destroyed || _iommufd.Fd.IsClosed)
        {
            // Destroying the IOAS dropped every mapping.
            _mappings.Remove(mapping);
            mapping.Buffer.RemoveMapping();
            return;
        }

        var unmap = new iommu_ioas_unmap { size = Structs.Size<iommu_ioas_unmap>(), ioas_id = Id, iova = mapping.Iova, length = (ulong)mapping.Length };
        var result = Sys.Ioctl(_iommufd.Fd.Fd, IommufdUapi.IOMMU_IOAS_UNMAP, Structs.Bytes(ref unmap));
        if (result < 0)
        {
            // The kernel still maps the buffer and the device can still reach it: keep the mapping listed
            // and the buffer's memory, so its IOVA is not handed out again (the kernel's allocator sees it
            // taken) and nothing is freed under the device.
            throw new VfioException("IOMMU_IOAS_UNMAP", $"{Target}, IOVA 0x{mapping.Iova:x}+0x{mapping.Length:x}", -result,
                "The mapping is kept (IOVA reserved, buffer not freed): dispose it again to retry; destroying the address space drops it.");
        }

        // The kernel writes back how much it unmapped; less than the mapping leaves part of the buffer
        // reachable by the device, so it must not be freed as if it were unmapped.
        var unmapped = unmap.length;
        if (unmapped < (ulong)mapping.Length)
        {
            throw new VfioException("IOMMU_IOAS_UNMAP", $"{Target}, IOVA 0x{mapping.Iova:x}+0x{mapping.Length:x}", Errno.EIO,
                $"The kernel unmapped 0x{unmapped:x} of 0x{mapping.Length:x} bytes: the mapping is kept (buffer not freed); destroying the address space drops it.");
        }

        _mappings.Remove(mapping);
        mapping.Buffer.RemoveMapping();
    }

    /// <summary>Closes the attached devices, unmaps every buffer and destroys the address space
    /// (<c>IOMMU_DESTROY</c>).</summary>
    public void Dispose()
    {
        if (_destroyed)
        {
            return;
        }

        foreach (var device in _devices.ToArray())
        {
            device.Dispose();
        }

        foreach (var mapping in _mappings.ToArray())
        {
            try
            {
                mapping.Dispose();
            }
            catch (VfioException)
            {
                // Destroying the IOAS drops it anyway.
            }
        }

        _destroyed = true;
        if (!_iommufd.Fd.IsClosed)
        {
            var destroy = new iommu_destroy { size = Structs.Size<iommu_destroy>(), id = Id };
            _ = Sys.Ioctl(_iommufd.Fd.Fd, IommufdUapi.IOMMU_DESTROY, Structs.Bytes(ref destroy));
        }

        // A mapping the kernel refused to unmap above went with the address space: dispose it again (the
        // destroyed path) so its buffer's memory is freed.
        foreach (var mapping in _mappings.ToArray())
        {
            mapping.Dispose();
        }

        _iommufd.Forget(this);
    }
}
